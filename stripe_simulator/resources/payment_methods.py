"""PaymentMethods of type card: created from test tokens or `pm_card_*` shortcuts, attached to
and detached from customers. Attaching runs the card check: cards that decline are refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..cards import TestCard, by_number, test_card
from ..errors import StripeAPIError, invalid, missing
from ..routing import Route
from ..sdk import NotSimulated
from .common import card_error, list_of, live_customer, lookup

if TYPE_CHECKING:
    from ..core import Simulator


def new_card_method(sim: Simulator, card: TestCard, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """A new, unattached PaymentMethod for a test card."""
    pm: dict[str, Any] = {
        "id": sim.new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "card": {
            "brand": card.brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "unchecked"},
            "country": card.country,
            "display_brand": card.brand,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "fingerprint": sim.fingerprint(card.number),
            "funding": card.funding,
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": sim.now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": metadata or {},
        "type": "card",
    }
    sim.private(pm["id"])["card"] = card
    return sim.save(pm)


def card_of(sim: Simulator, pm: dict[str, Any]) -> TestCard:
    card: TestCard = sim.private(pm["id"])["card"]
    return card


def resolve(sim: Simulator, identifier: str, param: str = "payment_method") -> dict[str, Any]:
    """The PaymentMethod an id names; a `pm_card_*` shortcut makes a new one each time."""
    card = test_card(identifier) if identifier.startswith("pm_card_") else None
    if card is not None:
        return new_card_method(sim, card)
    pm = sim.get(identifier, "payment_method")
    if pm is None:
        raise missing("PaymentMethod", identifier, param)
    return pm


def create(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("type") is None:  # optional in the types (a clone names none); required here
        raise invalid("Missing required param: type.", param="type", code="parameter_missing")
    if params["type"] != "card":
        raise NotSimulated(f"PaymentMethods of type {params.get('type')!r}: only cards are simulated")
    details = params.get("card")
    token, number = (details.get("token"), details.get("number")) if isinstance(details, dict) else (None, None)
    card = test_card(token) if token else by_number(str(number)) if number else None
    if card is None:
        raise StripeAPIError(
            402, "Your card number is incorrect.", type="card_error", code="incorrect_number", param="card[number]"
        )
    return new_card_method(sim, card, forms.metadata(params))


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return resolve(sim, id, "id")


def attach(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    customer = live_customer(sim, forms.string(params, "customer", required=True) or "")
    pm = resolve(sim, id, "payment_method")
    if pm["customer"] == customer["id"]:
        return pm
    if pm["customer"] is not None:
        raise invalid(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
            code="payment_method_unexpected_state",
        )
    if sim.private(pm["id"]).get("consumed"):
        raise invalid(
            "This PaymentMethod was previously used without being attached to a Customer or was detached "
            "from a Customer, and may not be used again.",
            param="payment_method",
            code="payment_method_unexpected_state",
        )
    decline = card_of(sim, pm).decline_on_attach
    if decline is not None:
        raise card_error(decline, param="")
    pm["customer"] = customer["id"]
    sim.emit("payment_method.attached", pm)
    return pm


def detach(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    pm = lookup(sim, "payment_method", id, "PaymentMethod")
    if pm["customer"] is None:
        raise invalid(
            "The payment method you provided is not attached to a customer so detachment is impossible.",
            param="payment_method",
            code="payment_method_unexpected_state",
        )
    previous = pm["customer"]
    pm["customer"] = None
    sim.private(pm["id"])["consumed"] = True  # a detached PaymentMethod cannot be used again
    customer = sim.get(previous, "customer")
    if customer and customer["invoice_settings"]["default_payment_method"] == id:
        customer["invoice_settings"]["default_payment_method"] = None
    sim.emit("payment_method.detached", pm, {"customer": previous})
    return pm


def list_all(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    customer = params.get("customer")
    items = [pm for pm in sim.all("payment_method") if customer is None or pm["customer"] == customer]
    return list_of(sim, "/v1/payment_methods", items, params)


ROUTES = [
    Route("v1.payment_methods.create", create),
    Route("v1.payment_methods.list", list_all),
    Route("v1.payment_methods.retrieve", retrieve),
    Route("v1.payment_methods.attach", attach),
    Route("v1.payment_methods.detach", detach),
]
