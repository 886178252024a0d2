"""Refunds of captured charges, capped at what was captured and not yet refunded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import invalid
from ..routing import Route
from .common import list_of, lookup

if TYPE_CHECKING:
    from ..core import Simulator


def create(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    intent_id, charge_id = forms.string(params, "payment_intent"), forms.string(params, "charge")
    if bool(intent_id) == bool(charge_id):
        raise invalid("One of `charge` or `payment_intent` is required.", code="parameter_missing")
    intent = lookup(sim, "payment_intent", intent_id, "payment_intent", "payment_intent") if intent_id else None
    if intent is not None:
        if intent["status"] != "succeeded" or not intent["latest_charge"]:
            raise invalid(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
                code="charge_not_refundable",
            )
        charge_id = intent["latest_charge"]
    charge = lookup(sim, "charge", charge_id or "", "charge", "charge")
    if not charge["captured"]:
        raise invalid(
            f"Charge {charge['id']} has not been captured; cancel its PaymentIntent instead.",
            param="charge",
            code="charge_not_refundable",
        )
    remaining = charge["amount_captured"] - sum(
        r["amount"] for r in sim.all("refund") if r["charge"] == charge["id"] and r["status"] != "failed"
    )
    if remaining <= 0:
        raise invalid(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
    amount = forms.integer(params, "amount", minimum=1) or remaining
    if amount > remaining:
        raise invalid(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            param="amount",
            code="amount_too_large",
        )
    reason = forms.string(params, "reason")
    refund = {
        "id": sim.new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": charge["id"],
        "created": sim.now(),
        "currency": charge["currency"],
        "customer": charge["customer"],
        "customer_account": None,
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": forms.metadata(params),
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    sim.save(refund)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
    sim.emit("refund.created", refund)
    sim.emit("charge.refunded", charge)
    return refund


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "refund", id)


def list_all(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    intent, charge = params.get("payment_intent"), params.get("charge")
    items = [
        r
        for r in sim.all("refund")
        if (intent is None or r["payment_intent"] == intent) and (charge is None or r["charge"] == charge)
    ]
    return list_of(sim, "/v1/refunds", items, params)


ROUTES = [
    Route("v1.refunds.create", create),
    Route("v1.refunds.list", list_all),
    Route("v1.refunds.retrieve", retrieve),
]
