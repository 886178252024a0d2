"""What callers (and producers of usage events) send about spending, and what they see of it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from account_billing.core.fields import normalized
from account_billing.core.models import with_examples

MAX_REQUESTED_LIMIT_CENTS = 100_000_000  # $1,000,000 a month: beyond that, talk to sales


class LimitIncreaseRequest(BaseModel):
    """Ask for a higher monthly spending limit; the limit itself changes only by configuration."""

    model_config = with_examples(
        {"amount_cents": 200000, "reason": "Batch jobs at the end of each quarter"}, extra="forbid", frozen=True
    )

    amount_cents: Annotated[int, Strict(), Field(gt=0, le=MAX_REQUESTED_LIMIT_CENTS, examples=[200_000])]
    reason: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=1000), BeforeValidator(normalized)] = (
        Field(examples=["Batch jobs at the end of each quarter"])
    )


# The producers' contract (README, "Usage events"): a `UsageRecorded` event's detail is one usage
# charge, or a batch of them under `records`. An event entry may hold 256 KB, so a batch of a few
# hundred records fits; batching keeps EventBridge's deliveries (target invocations) far below
# its quota at tens of thousands of records a second.
MAX_RECORDS_PER_EVENT = 500


class UsageCharge(BaseModel):
    """One usage charge against an account. `idempotency_id` identifies it for its producer (the
    event's `source`): the same charge sent twice is counted once. `occurred_at` (ISO 8601 with
    a time zone) places it in its calendar month (UTC); without it, the event's `time` does."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    account: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=255)]
    amount_cents: Annotated[int, Strict(), Field(ge=0, le=1_000_000_000)]
    idempotency_id: Annotated[str, Strict(), StringConstraints(pattern=r"^[A-Za-z0-9_.:\-]{1,128}$")]
    occurred_at: AwareDatetime | None = None


class UsageBatch(BaseModel):
    """Several usage charges in one event (of any accounts and months)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    records: Annotated[list[UsageCharge], Field(min_length=1, max_length=MAX_RECORDS_PER_EVENT)]


class UsageEvent(BaseModel):
    """A `UsageRecorded` event as EventBridge delivers it (the body of a usage queue message)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    detail_type: Annotated[Literal["UsageRecorded"], Field(alias="detail-type")]
    source: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    time: AwareDatetime
    detail: UsageBatch | UsageCharge

    @property
    def charges(self) -> list[UsageCharge]:
        return list(self.detail.records) if isinstance(self.detail, UsageBatch) else [self.detail]


class SpendingView(BaseModel):
    model_config = with_examples(
        {
            "month": "2026-11",
            "plan": "developer",
            "spent_cents": 4250,
            "limit_cents": 10000,
            "share_used": 0.425,
            "reached": False,
            "reached_at": None,
        }
    )

    month: str = Field(description="The calendar month (UTC) the figures cover", examples=["2026-11"])
    plan: str
    spent_cents: int
    limit_cents: int = Field(description="The plan's monthly spending limit; 0 on the free plan")
    share_used: float = Field(description="spent / limit, 0 to 1 and beyond; 1 on the free plan once anything is spent")
    reached: bool
    reached_at: datetime | None = None


class LimitIncreaseView(BaseModel):
    model_config = with_examples(
        {
            "id": "lir_01JD7Q5W3C9N",
            "amount_cents": 200000,
            "reason": "Batch jobs at the end of each quarter",
            "status": "open",
            "created_at": "2026-11-20T14:05:00Z",
        }
    )

    id: str
    amount_cents: int
    reason: str
    status: Literal["open"]
    created_at: datetime


class LimitIncreasePage(BaseModel):
    model_config = with_examples(
        {
            "requests": [
                {
                    "id": "lir_01JD7Q5W3C9N",
                    "amount_cents": 200000,
                    "reason": "Batch jobs at the end of each quarter",
                    "status": "open",
                    "created_at": "2026-11-20T14:05:00Z",
                }
            ],
            "next_cursor": None,
        }
    )

    requests: list[LimitIncreaseView]
    next_cursor: str | None
