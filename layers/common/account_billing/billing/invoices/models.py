"""What the invoice routes answer. Amounts are in cents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from account_billing.core.models import with_examples


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class InvoiceView(_Response):
    model_config = with_examples(
        {
            "id": "in_1Q0aB2C3d4E5f6G7",
            "number": "3F2A9C1E-0001",
            "status": "paid",
            "amount_due": 2900,
            "amount_paid": 2900,
            "currency": "usd",
            "period_start": "2026-11-20T14:05:00Z",
            "period_end": "2026-12-20T14:05:00Z",
            "created": "2026-11-20T14:05:00Z",
            "billing_reason": "subscription_create",
        }
    )

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
    model_config = with_examples(
        {
            "invoices": [
                {
                    "id": "in_1Q0aB2C3d4E5f6G7",
                    "number": "3F2A9C1E-0001",
                    "status": "paid",
                    "amount_due": 2900,
                    "amount_paid": 2900,
                    "currency": "usd",
                    "period_start": "2026-11-20T14:05:00Z",
                    "period_end": "2026-12-20T14:05:00Z",
                    "created": "2026-11-20T14:05:00Z",
                    "billing_reason": "subscription_create",
                }
            ],
            "next_cursor": None,
        }
    )

    invoices: list[InvoiceView]
    next_cursor: str | None
