"""Invoices as stored: `ACCOUNT#<sub>` / `INVOICE#<created>#<id>` (newest first by its sort key),
and `INVOICE_ID#<id>` pointing at it, so an invoice is found by id with two GetItems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from account_billing.billing.stripe.results import InvoiceLine, StripeInvoice
from account_billing.core import keys
from account_billing.core.records import from_item, to_item

INVOICE_PREFIX = "INVOICE#"
DRAFT = "draft"
OPEN = "open"
MAX_LINES = 200  # lines kept of one invoice (a subscription's invoice has one or two)


def invoice_sort_key(created: int, invoice_id: str) -> str:
    return f"{INVOICE_PREFIX}{created:010d}#{invoice_id}"


def invoice_pointer_key(sub: str, invoice_id: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"INVOICE_ID#{invoice_id}"}


@dataclass(frozen=True, slots=True)
class Invoice:
    sub: str
    invoice_id: str
    status: str  # Stripe's: draft, open, paid, uncollectible, void
    amount_due: int
    amount_paid: int
    currency: str
    period_start: int
    period_end: int
    created: int
    synced_at: int
    number: str | None = None
    billing_reason: str | None = None
    invoice_pdf: str | None = None
    hosted_invoice_url: str | None = None
    subtotal: int | None = None  # None: stored before the detail was kept (amount_due stands in)
    tax: int = 0
    total: int | None = None
    amount_remaining: int | None = None
    lines: tuple[InvoiceLine, ...] = ()
    paid_at: int | None = None
    payment_brand: str | None = None
    payment_last4: str | None = None
    receipt_url: str | None = None
    subscription_id: str | None = None

    @property
    def sort_key(self) -> str:
        return invoice_sort_key(self.created, self.invoice_id)

    @classmethod
    def from_stripe(cls, sub: str, invoice: StripeInvoice, synced_at: int) -> Invoice:
        return cls(
            sub=sub,
            invoice_id=invoice.id,
            number=invoice.number,
            status=invoice.status,
            amount_due=invoice.amount_due,
            amount_paid=invoice.amount_paid,
            currency=invoice.currency,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            created=invoice.created,
            billing_reason=invoice.billing_reason,
            invoice_pdf=invoice.invoice_pdf,
            hosted_invoice_url=invoice.hosted_invoice_url,
            subtotal=invoice.subtotal,
            tax=invoice.tax,
            total=invoice.total,
            amount_remaining=invoice.amount_remaining,
            lines=invoice.lines[:MAX_LINES],
            paid_at=invoice.paid_at,
            payment_brand=invoice.payment.brand if invoice.payment else None,
            payment_last4=invoice.payment.last4 if invoice.payment else None,
            receipt_url=invoice.payment.receipt_url if invoice.payment else None,
            subscription_id=invoice.subscription_id,
            synced_at=synced_at,
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Invoice:
        lines = tuple(InvoiceLine(**line) for line in item.get("lines") or ())
        return from_item(cls, item, sub=keys.sub_of(item["PK"]), lines=lines)

    def to_item(self) -> dict[str, Any]:
        item = to_item(self, {"PK": keys.account_pk(self.sub), "SK": self.sort_key}, "invoice", leave_out=("sub",))
        item["lines"] = [asdict(line) for line in self.lines]
        return item
