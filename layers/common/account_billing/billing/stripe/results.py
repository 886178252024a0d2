"""What Stripe answers, as typed values built from its objects: nothing leaves the `stripe`
package as one of Stripe's objects or a raw dict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

AuthorizationStatus = Literal["authorized", "requires_action", "captured", "canceled", "incomplete"]
ReleaseOutcome = Literal["canceled", "refunded", "expired"]

_AUTHORIZATION_STATUS: dict[str, AuthorizationStatus] = {
    "requires_capture": "authorized",
    "requires_action": "requires_action",
    "succeeded": "captured",
    "canceled": "canceled",
}


@dataclass(frozen=True, slots=True)
class CardDetails:
    payment_method_id: str
    customer_id: str | None
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str | None
    funding: str | None


@dataclass(frozen=True, slots=True)
class Authorization:
    """A hold's PaymentIntent as Stripe reports it."""

    payment_intent_id: str
    status: AuthorizationStatus
    client_secret: str | None = None

    @classmethod
    def of(cls, payment_intent_id: str, stripe_status: str, client_secret: str | None) -> Authorization:
        return cls(payment_intent_id, _AUTHORIZATION_STATUS.get(stripe_status, "incomplete"), client_secret)


@dataclass(frozen=True, slots=True)
class Released:
    """canceled: the PaymentIntent was cancelled by us (an authorization is voided, free);
    refunded: it had been captured and is refunded in full; expired: Stripe had already
    cancelled it (an authorization left uncaptured for seven days)."""

    outcome: ReleaseOutcome


def _id(value: Any) -> str:
    """An expandable field: the id, or the object whose id it is."""
    return str(value["id"] if isinstance(value, Mapping) else value)


def _account(metadata: Any) -> str | None:
    account = (metadata or {}).get("account")
    return str(account) if account else None


@dataclass(frozen=True, slots=True)
class StripeSubscription:
    id: str
    customer_id: str
    status: str
    item_id: str
    price_id: str
    current_period_start: int | None
    current_period_end: int | None
    cancel_at_period_end: bool
    schedule_id: str | None
    created: int
    account: str | None  # the account key in its metadata
    latest_invoice: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StripeSubscription:
        item = data["items"]["data"][0]
        schedule = data.get("schedule")
        latest = data.get("latest_invoice")
        return cls(
            id=str(data["id"]),
            customer_id=_id(data["customer"]),
            status=str(data["status"]),
            item_id=str(item["id"]),
            price_id=_id(item["price"]),
            current_period_start=item.get("current_period_start"),
            current_period_end=item.get("current_period_end"),
            cancel_at_period_end=bool(data.get("cancel_at_period_end")),
            schedule_id=_id(schedule) if schedule else None,
            created=int(data["created"]),
            account=_account(data.get("metadata")),
            latest_invoice=_id(latest) if latest else None,
        )


@dataclass(frozen=True, slots=True)
class CancellationReason:
    """Why a customer leaves a paid plan, in Stripe's `cancellation_details` terms."""

    feedback: str | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class SchedulePhase:
    start_date: int
    price_id: str


@dataclass(frozen=True, slots=True)
class StripeSchedule:
    id: str
    status: str
    phases: tuple[SchedulePhase, ...]

    @property
    def pending(self) -> bool:
        """Whether the schedule will still change its subscription."""
        return self.status in ("active", "not_started")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StripeSchedule:
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            phases=tuple(
                SchedulePhase(int(phase["start_date"]), _id(phase["items"][0]["price"]))
                for phase in data.get("phases") or []
            ),
        )


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line of an invoice: what it bills, for which period, how many, for how much."""

    description: str | None
    period_start: int | None
    period_end: int | None
    quantity: int
    amount: int
    proration: bool

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InvoiceLine:
        period = data.get("period") or {}
        details = (data.get("parent") or {}).get("subscription_item_details") or {}
        invoice_item = (data.get("parent") or {}).get("invoice_item_details") or {}
        return cls(
            description=data.get("description"),
            period_start=period.get("start"),
            period_end=period.get("end"),
            quantity=int(data.get("quantity") or 1),
            amount=int(data["amount"]),
            proration=bool(details.get("proration") or invoice_item.get("proration")),
        )


@dataclass(frozen=True, slots=True)
class InvoicePayment:
    """How a paid invoice was paid: the card, and the receipt Stripe keeps of the charge."""

    brand: str | None
    last4: str | None
    receipt_url: str | None

    @classmethod
    def from_charge(cls, charge: Mapping[str, Any]) -> InvoicePayment:
        card = (charge.get("payment_method_details") or {}).get("card") or {}
        return cls(brand=card.get("brand"), last4=card.get("last4"), receipt_url=charge.get("receipt_url"))


@dataclass(frozen=True, slots=True)
class StripeInvoice:
    id: str
    customer_id: str
    number: str | None
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    period_start: int
    period_end: int
    created: int
    billing_reason: str | None
    invoice_pdf: str | None
    hosted_invoice_url: str | None
    subtotal: int = 0
    tax: int = 0
    total: int = 0
    amount_remaining: int = 0
    lines: tuple[InvoiceLine, ...] = ()
    more_lines: bool = False  # Stripe embeds the first lines only; the rest are listed apart
    subscription_id: str | None = None
    account: str | None = None  # the account key in its subscription's metadata
    paid_at: int | None = None
    payment: InvoicePayment | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StripeInvoice:
        lines = data.get("lines") or {}
        details = (data.get("parent") or {}).get("subscription_details") or {}
        subscription = details.get("subscription")
        return cls(
            id=str(data["id"]),
            customer_id=_id(data["customer"]),
            number=data.get("number"),
            status=str(data["status"]),
            amount_due=int(data["amount_due"]),
            amount_paid=int(data["amount_paid"]),
            currency=str(data["currency"]),
            period_start=int(data["period_start"]),
            period_end=int(data["period_end"]),
            created=int(data["created"]),
            billing_reason=data.get("billing_reason"),
            invoice_pdf=data.get("invoice_pdf"),
            hosted_invoice_url=data.get("hosted_invoice_url"),
            subtotal=int(data.get("subtotal") or 0),
            tax=sum(int(tax["amount"]) for tax in data.get("total_taxes") or []),
            total=int(data.get("total") or 0),
            amount_remaining=int(data.get("amount_remaining") or 0),
            lines=tuple(InvoiceLine.from_dict(line) for line in lines.get("data") or []),
            more_lines=bool(lines.get("has_more")),
            subscription_id=_id(subscription) if subscription else None,
            account=_account(details.get("metadata")),
            paid_at=(data.get("status_transitions") or {}).get("paid_at"),
        )


@dataclass(frozen=True, slots=True)
class PaymentActionRequired:
    """Paying needs the customer (3-D Secure): Stripe.js completes the PaymentIntent with its
    client secret, and the invoice is paid when it succeeds."""

    payment_intent_id: str
    client_secret: str | None


@dataclass(frozen=True, slots=True)
class InvoicePreview:
    """What an invoice a change would produce asks for."""

    amount_due: int
    currency: str


@dataclass(frozen=True, slots=True)
class StripeEvent:
    """A verified webhook delivery: what happened (`type`) to which object, as the event carries it."""

    id: str
    type: str
    data_object: Mapping[str, Any]
    previous_attributes: Mapping[str, Any]
    created: int = 0  # when Stripe made the event (seconds since the epoch): the same on every delivery

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StripeEvent:
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            data_object=data["data"]["object"],
            previous_attributes=data["data"].get("previous_attributes") or {},
            created=int(data.get("created") or 0),
        )


@dataclass(frozen=True, slots=True)
class StripeTaxId:
    id: str
    type: str
    value: str
    verification: str | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StripeTaxId:
        verification = data.get("verification") or {}
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            value=str(data["value"]),
            verification=verification.get("status"),
        )
