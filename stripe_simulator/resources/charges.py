"""Charges: what an authorization or a capture leaves behind (read-only here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..hosted import receipt_url
from ..routing import Route
from .common import lookup

if TYPE_CHECKING:
    from ..cards import Decline
    from ..core import Simulator


def new_charge(
    sim: Simulator, intent: dict[str, Any], pm: dict[str, Any], *, captured: bool, failure: Decline | None = None
) -> dict[str, Any]:
    card = pm["card"]
    amount = intent["amount"]
    identifier = sim.new_id("ch")
    charge = {
        "id": identifier,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if captured and failure is None else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "ACCOUNT BILLING",
        "captured": captured and failure is None,
        "created": sim.now(),
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure.code if failure else None,
        "failure_message": failure.message if failure else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "declined_by_network" if failure else "approved_by_network",
            "reason": failure.decline_code if failure else None,
            "risk_level": "normal",
            "seller_message": "The bank did not return any further details with this decline."
            if failure
            else "Payment complete.",
            "type": "issuer_declined" if failure else "authorized",
        },
        "paid": failure is None,
        "payment_intent": intent["id"],
        "payment_method": pm["id"],
        "payment_method_details": {
            "card": {
                "amount_authorized": None if failure else amount,
                "brand": card["brand"],
                "capture_before": None if failure or captured else sim.now() + 7 * 24 * 3600,
                "checks": card["checks"],
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "fingerprint": card["fingerprint"],
                "funding": card["funding"],
                "last4": card["last4"],
                "network": card["brand"],
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_email": None,
        "receipt_number": None,
        # Stripe keeps a receipt of every successful charge at an unguessable address (`hosted`)
        "receipt_url": None if failure else receipt_url(sim, identifier),
        "refunded": False,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "failed" if failure else "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }
    return sim.save(charge)


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "charge", id)


ROUTES = [Route("v1.charges.retrieve", retrieve)]
