"""InvoicePayments: the payments of an invoice. Stripe keeps a default one per invoice, in sync
with what is left to pay, pointing at the PaymentIntent that collects it (`open` until it
succeeds, then `paid`); lists of them find the PaymentIntent of an invoice (to complete 3-D
Secure, or to read the charge's card and receipt)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..routing import Route
from .common import list_of, lookup

if TYPE_CHECKING:
    from ..core import Simulator


def default_of(sim: Simulator, invoice_id: str) -> dict[str, Any] | None:
    return next(
        (p for p in sim.all("invoice_payment") if p["invoice"] == invoice_id and p["is_default"]),
        None,
    )


def attempt(sim: Simulator, invoice: dict[str, Any], intent: dict[str, Any]) -> dict[str, Any]:
    """The invoice's default payment now collects through `intent`."""
    payment = default_of(sim, invoice["id"])
    if payment is None:
        payment = {
            "id": sim.new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": None,
            "amount_requested": invoice["amount_remaining"],
            "created": sim.now(),
            "currency": invoice["currency"],
            "invoice": invoice["id"],
            "is_default": True,
            "livemode": False,
            "payment": {"charge": None, "payment_intent": None, "payment_record": None, "type": "payment_intent"},
            "status": "open",
            "status_transitions": {"canceled_at": None, "paid_at": None},
        }
        sim.save(payment)
    payment["payment"]["payment_intent"] = intent["id"]
    payment["amount_requested"] = invoice["amount_remaining"]
    return payment


def settle(sim: Simulator, invoice: dict[str, Any], amount: int) -> None:
    """The invoice's default payment has collected `amount`."""
    payment = default_of(sim, invoice["id"])
    if payment is not None and payment["status"] == "open":
        payment.update(status="paid", amount_paid=amount)
        payment["status_transitions"]["paid_at"] = sim.now()


def invoice_of_intent(sim: Simulator, intent_id: str) -> dict[str, Any] | None:
    """The open invoice whose default payment collects through the PaymentIntent, if any."""
    for payment in sim.all("invoice_payment"):
        if payment["payment"]["payment_intent"] == intent_id and payment["status"] == "open":
            invoice = sim.get(payment["invoice"], "invoice")
            return invoice if invoice is not None and invoice["status"] == "open" else None
    return None


def list_all(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    invoice, status = params.get("invoice"), params.get("status")
    intent = (params.get("payment") or {}).get("payment_intent")
    items = [
        p
        for p in sim.all("invoice_payment")
        if (invoice is None or p["invoice"] == invoice)
        and (status is None or p["status"] == status)
        and (intent is None or p["payment"]["payment_intent"] == intent)
    ]
    return list_of(sim, "/v1/invoice_payments", items, params)


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "invoice_payment", id)


ROUTES = [
    Route("v1.invoice_payments.list", list_all),
    Route("v1.invoice_payments.retrieve", retrieve),
]
