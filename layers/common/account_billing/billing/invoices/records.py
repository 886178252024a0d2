"""Invoices as stored: `ACCOUNT#<sub>` / `INVOICE#<created>#<id>` (newest first by its sort key),
and `INVOICE_ID#<id>` pointing at it, so an invoice is found by id with two GetItems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from account_billing.billing.stripe.results import StripeInvoice
from account_billing.core import keys

INVOICE_PREFIX = "INVOICE#"
DRAFT = "draft"


def invoice_sort_key(created: int, invoice_id: str) -> str:
    return f"{INVOICE_PREFIX}{created:010d}#{invoice_id}"


def invoice_pointer_key(sub: str, invoice_id: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"INVOICE_ID#{invoice_id}"}


@dataclass(frozen=True, slots=True)
class Invoice:
    sub: str
    invoice_id: str
    number: str | None
    status: str  # Stripe's: draft, open, paid, uncollectible, void
    amount_due: int
    amount_paid: int
    currency: str
    period_start: int
    period_end: int
    created: int
    billing_reason: str | None
    invoice_pdf: str | None
    hosted_invoice_url: str | None
    synced_at: int

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
            synced_at=synced_at,
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Invoice:
        return cls(
            sub=keys.sub_of(item["PK"]),
            invoice_id=item["invoice_id"],
            number=item.get("number"),
            status=item["status"],
            amount_due=int(item["amount_due"]),
            amount_paid=int(item["amount_paid"]),
            currency=item["currency"],
            period_start=int(item["period_start"]),
            period_end=int(item["period_end"]),
            created=int(item["created"]),
            billing_reason=item.get("billing_reason"),
            invoice_pdf=item.get("invoice_pdf"),
            hosted_invoice_url=item.get("hosted_invoice_url"),
            synced_at=int(item["synced_at"]),
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "PK": keys.account_pk(self.sub),
            "SK": self.sort_key,
            "entity": "invoice",
            "invoice_id": self.invoice_id,
            "number": self.number,
            "status": self.status,
            "amount_due": self.amount_due,
            "amount_paid": self.amount_paid,
            "currency": self.currency,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "created": self.created,
            "billing_reason": self.billing_reason,
            "invoice_pdf": self.invoice_pdf,
            "hosted_invoice_url": self.hosted_invoice_url,
            "synced_at": self.synced_at,
        }
