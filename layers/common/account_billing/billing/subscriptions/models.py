"""What callers send to the plan and subscription routes and what they answer. Amounts are in cents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from account_billing.core.fields import normalized
from account_billing.core.models import with_examples

PlanName = Literal["community", "developer", "essential", "professional"]


# Stripe's `cancellation_details.feedback` values (stripe-python's SubscriptionUpdateParams).
Feedback = Literal[
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
]


class Cancellation(BaseModel):
    """Why the account leaves its paid plan (optional), recorded on the Stripe subscription."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    feedback: Feedback | None = Field(default=None, examples=["too_expensive"])
    comment: Annotated[str, BeforeValidator(normalized), StringConstraints(max_length=500)] | None = Field(
        default=None, examples=["We only need it a few months a year."]
    )


class ChangePlanRequest(BaseModel):
    """Move the account to a plan: upgrades at once (prorated), downgrades at the period end,
    Community by cancelling at the period end (with a reason, if the customer gives one)."""

    model_config = with_examples({"plan": "essential"}, extra="forbid", frozen=True)

    plan: PlanName = Field(description="The plan to move to")
    cancellation: Cancellation | None = Field(default=None, description="Only when moving to Community")

    @model_validator(mode="after")
    def _cancellation_on_leaving_only(self) -> Self:
        if self.cancellation is not None and self.plan != "community":
            raise ValueError("a cancellation reason goes with moving to community only")
        return self


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class PlanView(_Response):
    key: str = Field(examples=["developer"])
    name: str = Field(examples=["Developer"])
    monthly_price: int = Field(description="Cents per month", examples=[2900])
    currency: str = Field(examples=["usd"])
    spending_limit: int | None = Field(description="Monthly usage limit in cents; null: no usage")
    pre_authorization: int | None = Field(description="The card hold a paid plan needs, in cents")


class PlanList(_Response):
    model_config = with_examples(
        {
            "plans": [
                {
                    "key": "community",
                    "name": "Community",
                    "monthly_price": 0,
                    "currency": "usd",
                    "spending_limit": None,
                    "pre_authorization": None,
                },
                {
                    "key": "developer",
                    "name": "Developer",
                    "monthly_price": 2900,
                    "currency": "usd",
                    "spending_limit": 10000,
                    "pre_authorization": 5000,
                },
            ]
        }
    )

    plans: list[PlanView]


class ScheduledChange(_Response):
    kind: Literal["downgrade", "cancellation"]
    plan: str = Field(description="The plan the account moves to")
    effective_at: datetime


class SubscriptionView(_Response):
    model_config = with_examples(
        {
            "plan": "essential",
            "plan_name": "Essential",
            "status": "active",
            "current_period_start": "2026-11-20T14:05:00Z",
            "current_period_end": "2026-12-20T14:05:00Z",
            "scheduled_change": {"kind": "downgrade", "plan": "developer", "effective_at": "2026-12-20T14:05:00Z"},
            "spending_limit": 10000,
        }
    )

    plan: str = Field(examples=["developer"])
    plan_name: str
    status: str = Field(description="none, active, past_due, canceled, incomplete...", examples=["active"])
    current_period_start: datetime | None
    current_period_end: datetime | None
    scheduled_change: ScheduledChange | None
    spending_limit: int | None
    amount_due: int | None = Field(
        default=None, description="What a failed renewal left to pay (past_due), in cents; pay it to stay active"
    )
    due_since: datetime | None = Field(default=None, description="Since when it is due")
    due_invoice_id: str | None = Field(default=None, description="The open invoice to pay (POST .../pay)")


class SubscriptionPreview(_Response):
    model_config = with_examples(
        {
            "plan": "essential",
            "effective": "now",
            "amount_due_now": 4667,
            "amount_due_at_renewal": 9900,
            "currency": "usd",
        }
    )

    plan: str
    effective: Literal["now", "period_end"]
    amount_due_now: int = Field(description="Charged at once (a prorated upgrade), in cents")
    amount_due_at_renewal: int = Field(description="The next renewal's invoice, in cents")
    currency: str
