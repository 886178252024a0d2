"""What the plan, subscription and invoice routes answer. Amounts are in cents."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
    plans: list[PlanView]


class ScheduledChange(_Response):
    kind: Literal["downgrade", "cancellation"]
    plan: str = Field(description="The plan the account moves to")
    effective_at: datetime


class SubscriptionView(_Response):
    plan: str = Field(examples=["developer"])
    plan_name: str
    status: str = Field(description="none, active, past_due, canceled, incomplete...", examples=["active"])
    current_period_start: datetime | None
    current_period_end: datetime | None
    scheduled_change: ScheduledChange | None
    spending_limit: int | None


class SubscriptionPreview(_Response):
    plan: str
    effective: Literal["now", "period_end"]
    amount_due_now: int = Field(description="Charged at once (a prorated upgrade), in cents")
    amount_due_at_renewal: int = Field(description="The next renewal's invoice, in cents")
    currency: str


class InvoiceView(_Response):
    id: str
    number: str | None
    status: str = Field(examples=["paid"])
    amount_due: int
    amount_paid: int
    currency: str
    period_start: datetime
    period_end: datetime
    created: datetime
    billing_reason: str | None


class InvoicePage(_Response):
    invoices: list[InvoiceView]
    next_cursor: str | None
