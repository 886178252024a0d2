"""What callers (and producers of usage events) send about spending."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from .fields import _normalized

MAX_REQUESTED_LIMIT_CENTS = 100_000_000  # $1,000,000 a month: beyond that, talk to sales


class LimitIncreaseRequest(BaseModel):
    """Ask for a higher monthly spending limit; the limit itself changes only by configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    amount_cents: Annotated[int, Strict(), Field(gt=0, le=MAX_REQUESTED_LIMIT_CENTS, examples=[200_000])]
    reason: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=1000), BeforeValidator(_normalized)] = (
        Field(examples=["Batch jobs at the end of each quarter"])
    )


class UsageRecorded(BaseModel):
    """The `detail` of a `UsageRecorded` event: a usage charge against an account."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    account: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=255)]
    amount_cents: Annotated[int, Strict(), Field(ge=0, le=1_000_000_000)]
    idempotency_id: Annotated[str, Strict(), StringConstraints(pattern=r"^[A-Za-z0-9_.:\-]{1,128}$")]
