"""What the invoice routes answer. Amounts are in cents."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from account_billing.core.models import with_examples


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


_INVOICE = {
    "id": "in_1Q0aB2C3d4E5f6G7",
    "number": "3F2A9C1E-0001",
    "status": "paid",
    "amount_due": 2900,
    "amount_paid": 2900,
    "amount_remaining": 0,
    "total": 2900,
    "currency": "usd",
    "period_start": "2026-11-20T14:05:00Z",
    "period_end": "2026-12-20T14:05:00Z",
    "created": "2026-11-20T14:05:00Z",
    "billing_reason": "subscription_create",
}


class InvoiceView(_Response):
    model_config = with_examples(_INVOICE, frozen=True)

    id: str
    number: str | None
    status: str = Field(examples=["paid"], description="draft, open (due), paid, uncollectible or void")
    amount_due: int
    amount_paid: int
    amount_remaining: int = Field(description="What is still to pay")
    total: int
    currency: str
    period_start: datetime
    period_end: datetime
    created: datetime
    billing_reason: str | None


class InvoicePage(_Response):
    model_config = with_examples(
        {
            "invoices": [_INVOICE],
            "next_cursor": None,
        }
    )

    invoices: list[InvoiceView]
    next_cursor: str | None


class InvoiceLineView(_Response):
    description: str | None = Field(examples=["1 × Developer (at $29.00 / month)"])
    period_start: datetime | None
    period_end: datetime | None
    quantity: int
    amount: int
    proration: bool = Field(description="A prorated charge or credit for part of a period")


class PaymentMethodUsed(_Response):
    type: Literal["card"] = "card"
    brand: str | None = Field(examples=["visa"])
    last4: str | None = Field(examples=["4242"])


class InvoiceDetail(InvoiceView):
    model_config = with_examples(
        {
            **_INVOICE,
            "lines": [
                {
                    "description": "1 × Developer (at $29.00 / month)",
                    "period_start": "2026-11-20T14:05:00Z",
                    "period_end": "2026-12-20T14:05:00Z",
                    "quantity": 1,
                    "amount": 2900,
                    "proration": False,
                }
            ],
            "subtotal": 2900,
            "tax": 0,
            "paid_at": "2026-11-20T14:05:03Z",
            "payment_method": {"type": "card", "brand": "visa", "last4": "4242"},
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1Example/test_Example",
            "receipt_url": "https://pay.stripe.com/receipts/invoices/Example",
            "statement_url": "/v1/billing/invoices/in_1Q0aB2C3d4E5f6G7/pdf",
        },
        frozen=True,
    )

    lines: list[InvoiceLineView]
    subtotal: int
    tax: int
    paid_at: datetime | None
    payment_method: PaymentMethodUsed | None = Field(description="The card that paid it, once paid by card")
    hosted_invoice_url: str | None = Field(description="Stripe's page of the invoice, once finalized")
    receipt_url: str | None = Field(description="Stripe's receipt of the payment, once paid by card")
    statement_url: str | None = Field(
        description="This API's route to the statement PDF, once finalized", examples=["/v1/billing/invoices/in_1/pdf"]
    )


class PayInvoiceRequest(BaseModel):
    """Pay an open invoice: with the account's default card, or another of its verified cards
    (add one first through the card routes)."""

    model_config = with_examples({"payment_method_id": "pm_1Q0PsIJvEtkwdCNYMSaVuRz6"}, extra="forbid", frozen=True)

    payment_method_id: str | None = Field(
        default=None,
        pattern=r"^pm_[A-Za-z0-9_]{1,250}$",
        description="One of the account's cards; the default card when left out",
        examples=["pm_1Q0PsIJvEtkwdCNYMSaVuRz6"],
    )


class InvoicePaymentAction(_Response):
    """The bank asks the cardholder to authenticate (3-D Secure): hand `client_secret` to
    Stripe.js (handleNextAction); the invoice is paid, and the subscription active again, once
    it succeeds (by webhook)."""

    model_config = with_examples(
        {
            "invoice_id": "in_1Q0aB2C3d4E5f6G7",
            "status": "requires_action",
            "next_action": "authenticate",
            "client_secret": "pi_3Q0aB2C3d4E5f6G7_secret_Ex4mple",
        },
        frozen=True,
    )

    invoice_id: str
    status: Literal["requires_action"] = "requires_action"
    next_action: Literal["authenticate"] = "authenticate"
    client_secret: str | None
