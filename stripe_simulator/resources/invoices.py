"""Invoices of subscriptions: created (draft), finalized (a number and a PDF statement), paid
with the customer's default card (or failing: `invoice.payment_failed`), voided or marked
uncollectible; and the preview of the next invoice (`POST /v1/invoices/create_preview`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import StripeAPIError, invalid
from ..routing import Route
from ..statements import statement_urls
from . import invoice_payments
from .common import list_of, live_customer, lookup

if TYPE_CHECKING:
    from ..core import Simulator

MINIMUM_CHARGE = 50  # below this, Stripe does not charge a card (the amount is carried over)
_PAYMENT_DESCRIPTIONS = {  # how Stripe describes the payment of a subscription's invoice
    "subscription_create": "Subscription creation",
    "subscription_cycle": "Subscription cycle",
    "subscription_update": "Subscription update",
}
Line = dict[str, Any]


def line(  # noqa: PLR0917
    sim: Simulator,
    description: str,
    amount: int,
    price: dict[str, Any],
    start: int,
    end: int,
    *,
    proration: bool,
    item: str,
) -> Line:
    """A line of a subscription's invoice: `item` is the subscription item it bills."""
    return {
        "id": sim.new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": None,
                "subscription_item": item,
            },
            "type": "subscription_item_details",
        },
        "period": {"end": end, "start": start},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": 1,
        "quantity_decimal": "1",
        "subtotal": amount,
        "taxes": [],
    }


def new_invoice(
    sim: Simulator,
    customer: str,
    lines: list[Line],
    *,
    subscription: dict[str, Any] | None,
    billing_reason: str,
    currency: str = "usd",
    save: bool = True,
) -> dict[str, Any]:
    identifier = sim.new_id("in")
    total = sum(item["amount"] for item in lines)
    for item in lines:
        item["invoice"] = identifier
        if subscription is not None:
            item["parent"]["subscription_item_details"]["subscription"] = subscription["id"]
    starts = [item["period"]["start"] for item in lines] or [sim.now()]
    ends = [item["period"]["end"] for item in lines] or [sim.now()]
    invoice = {
        "id": identifier,
        "object": "invoice",
        "account_country": "US",
        "account_name": None,
        "account_tax_ids": None,
        "amount_due": max(total, 0),
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": max(total, 0),
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": sim.now(),
        "currency": currency,
        "custom_fields": None,
        "customer": customer,
        **customer_details(sim, sim.objects[customer]),
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {"object": "list", "data": lines, "has_more": False, "url": f"/v1/invoices/{identifier}/lines"},
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(subscription.get("metadata") or {}),
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        }
        if subscription is not None
        else None,
        "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        "period_end": max(ends),
        "period_start": min(starts),
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }
    if save:
        sim.save(invoice)
        sim.emit("invoice.created", invoice)
    return invoice


def customer_details(sim: Simulator, customer: dict[str, Any]) -> dict[str, Any]:
    """The invoice's copy of its customer: the customer as it is until the invoice is finalized,
    then frozen (Stripe's `customer_address`, `customer_name`... "once the invoice is finalized,
    this field will no longer be updated")."""
    return {
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_shipping": customer.get("shipping"),
        "customer_tax_exempt": customer.get("tax_exempt", "none"),
        "customer_tax_ids": [
            {"type": tax["type"], "value": tax["value"]}
            for tax in sim.all("tax_id")
            if tax.get("customer") == customer["id"]
        ],
    }


def finalize(sim: Simulator, invoice: dict[str, Any]) -> dict[str, Any]:
    if invoice["status"] != "draft":
        raise invalid("This invoice is already finalized.", code="invoice_not_editable")
    customer = sim.objects[invoice["customer"]]
    sequence = customer.get("next_invoice_sequence", 1)
    customer["next_invoice_sequence"] = sequence + 1
    hosted, pdf = statement_urls(sim, invoice["id"])
    invoice.update(
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        status="open",
        hosted_invoice_url=hosted,
        invoice_pdf=pdf,
        **customer_details(sim, customer),  # what the invoice shows of its customer from now on
    )
    invoice.update(effective_at=sim.now(), ending_balance=0)
    invoice["status_transitions"]["finalized_at"] = sim.now()
    sim.emit("invoice.finalized", invoice)
    return invoice


def payment_method_of(sim: Simulator, invoice: dict[str, Any], subscription: dict[str, Any] | None) -> str | None:
    """The card an invoice is charged to: its subscription's own default payment method, else
    the customer's invoice default (Stripe's order)."""
    if subscription is not None and subscription["default_payment_method"]:
        return str(subscription["default_payment_method"])
    customer = sim.objects[invoice["customer"]]
    default = customer["invoice_settings"]["default_payment_method"]
    return str(default) if default else None


def subscription_of(sim: Simulator, invoice: dict[str, Any]) -> dict[str, Any] | None:
    subscription_id = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    return sim.get(subscription_id, "subscription") if subscription_id else None


def charge(
    sim: Simulator,
    invoice: dict[str, Any],
    subscription: dict[str, Any] | None = None,
    payment_method: str | None = None,
    *,
    off_session: bool = True,
) -> StripeAPIError | None:
    """Charge the amount due (off-session unless the customer is there to authenticate): None if
    paid, else the decline, or (on-session) `invoice_payment_intent_requires_action` when the
    card asks for 3-D Secure. `subscription`: the invoice's subscription while it is not saved
    yet (being created); `payment_method`: a card named for this payment instead of the defaults."""
    from .payment_intents import create as create_payment_intent  # noqa: PLC0415

    amount = invoice["amount_remaining"]
    invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
    if amount >= MINIMUM_CHARGE:
        pm = payment_method or payment_method_of(sim, invoice, subscription or subscription_of(sim, invoice))
        if pm is None:
            return invalid(
                "This customer has no attached payment source or default payment method. Please consider "
                "adding a default payment method.",
                code="resource_missing",
            )
        params = {
            "amount": amount,
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "payment_method": pm,
            "confirm": True,
            "description": _PAYMENT_DESCRIPTIONS.get(invoice["billing_reason"], f"Invoice {invoice['number']}"),
            "metadata": {"invoice": invoice["id"]},
        }
        if off_session:
            params["off_session"] = True
        try:
            intent = create_payment_intent(sim, params)
        except StripeAPIError as exc:
            if isinstance(exc.error.get("payment_intent"), dict) and invoice["id"] in sim.objects:
                invoice_payments.attempt(sim, invoice, exc.error["payment_intent"])
            return exc
        invoice_payments.attempt(sim, invoice, intent)  # (an invoice being created is saved once paid)
        if intent["status"] == "requires_action":
            return StripeAPIError(
                402,
                "This payment requires additional user action before it can be completed successfully. Payment "
                "can be completed using the PaymentIntent associated with the invoice.",
                type="card_error",
                code="invoice_payment_intent_requires_action",
                payment_intent=intent,
            )
    return None


def pay(
    sim: Simulator, invoice: dict[str, Any], payment_method: str | None = None, *, off_session: bool = True
) -> StripeAPIError | None:
    """Try to collect an open invoice; its events follow. None if it is paid now."""
    failure = charge(sim, invoice, payment_method=payment_method, off_session=off_session)
    if failure is not None:
        action = failure.error.get("code") == "invoice_payment_intent_requires_action"
        sim.emit("invoice.payment_action_required" if action else "invoice.payment_failed", invoice)
        return failure
    mark_paid(sim, invoice)
    return None


def mark_paid(sim: Simulator, invoice: dict[str, Any]) -> None:
    invoice_payments.settle(sim, invoice, invoice["amount_remaining"])
    invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
    invoice["status_transitions"]["paid_at"] = sim.now()
    sim.emit("invoice.paid", invoice)
    sim.emit("invoice.payment_succeeded", invoice)


def intent_succeeded(sim: Simulator, intent: dict[str, Any]) -> None:
    """A PaymentIntent collecting an invoice succeeded outside `pay` (3-D Secure completed in
    the browser): the invoice is paid, and its subscription active again."""
    invoice = invoice_payments.invoice_of_intent(sim, intent["id"])
    if invoice is not None and intent["status"] == "succeeded":
        mark_paid(sim, invoice)
        from .subscription_changes import invoice_paid  # noqa: PLC0415

        invoice_paid(sim, invoice)


# ---------------------------------------------------------------------- endpoints
def create(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    """A draft one-off invoice (empty): what a manual invoice looks like before finalization."""
    customer = live_customer(sim, forms.string(params, "customer", required=True) or "")
    invoice = new_invoice(sim, customer["id"], [], subscription=None, billing_reason="manual")
    invoice["description"] = params.get("description")
    invoice["auto_advance"] = forms.boolean(params, "auto_advance")
    return invoice


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "invoice", id)


def list_all(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    customer, subscription, status = params.get("customer"), params.get("subscription"), params.get("status")
    items = [
        i
        for i in sim.all("invoice")
        if (customer is None or i["customer"] == customer)
        and (status is None or i["status"] == status)
        and (
            subscription is None
            or ((i.get("parent") or {}).get("subscription_details") or {}).get("subscription") == subscription
        )
    ]
    return list_of(sim, "/v1/invoices", items, params)


def finalize_endpoint(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return finalize(sim, lookup(sim, "invoice", id))


def pay_endpoint(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    invoice = lookup(sim, "invoice", id)
    if invoice["status"] != "open":
        raise invalid(f"Invoice is already {invoice['status']}.")
    off_session = forms.boolean(params, "off_session") if "off_session" in params else True
    failure = pay(sim, invoice, forms.string(params, "payment_method"), off_session=off_session)
    if failure is not None:
        raise failure
    from .subscription_changes import invoice_paid  # noqa: PLC0415

    invoice_paid(sim, invoice)
    return invoice


def list_lines(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    invoice = lookup(sim, "invoice", id, param="invoice")
    lines = [dict(item, created=0) for item in invoice["lines"]["data"]]  # listed in their own order
    page = list_of(sim, f"/v1/invoices/{id}/lines", lines, params)
    for item in page["data"]:
        item.pop("created")
    return page


def void(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    invoice = lookup(sim, "invoice", id)
    if invoice["status"] not in ("open", "uncollectible"):
        raise invalid(f"You can only pass in open or uncollectible invoices. This invoice is {invoice['status']}.")
    invoice["status"] = "void"
    invoice["status_transitions"]["voided_at"] = sim.now()
    sim.emit("invoice.voided", invoice)
    return invoice


def mark_uncollectible(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    invoice = lookup(sim, "invoice", id)
    if invoice["status"] != "open":
        raise invalid(f"You can only mark open invoices as uncollectible. This invoice is {invoice['status']}.")
    invoice["status"] = "uncollectible"
    invoice["status_transitions"]["marked_uncollectible_at"] = sim.now()
    sim.emit("invoice.marked_uncollectible", invoice)
    return invoice


def create_preview(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    from .subscription_changes import preview  # noqa: PLC0415

    return preview(sim, params)


ROUTES = [
    Route("v1.invoices.create_preview", create_preview),
    Route("v1.invoices.create", create),
    Route("v1.invoices.list", list_all),
    Route("v1.invoices.retrieve", retrieve),
    Route("v1.invoices.line_items.list", list_lines),
    Route("v1.invoices.finalize_invoice", finalize_endpoint),
    Route("v1.invoices.pay", pay_endpoint),
    Route("v1.invoices.void_invoice", void),
    Route("v1.invoices.mark_uncollectible", mark_uncollectible),
]
