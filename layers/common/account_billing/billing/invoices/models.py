"""What the invoice routes answer. Amounts are in cents."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class InvoiceView(_Response):
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

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

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

    invoice_id: str
    status: Literal["requires_action"] = "requires_action"
    next_action: Literal["authenticate"] = "authenticate"
    client_secret: str | None
