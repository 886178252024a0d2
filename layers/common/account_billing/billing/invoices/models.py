"""What the invoice routes answer. Amounts are in cents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


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
