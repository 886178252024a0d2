"""PaymentMethods of type card: created from test tokens or `pm_card_*` shortcuts, attached to
and detached from customers. Attaching runs the card check: cards that decline are refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..cards import TestCard, by_number, test_card
from ..errors import StripeAPIError, invalid, missing
from ..routing import Route
from .common import ID, card_error, list_of, live_customer, lookup

if TYPE_CHECKING:
    from ..core import Simulator

_CREATE = {
    "type": forms.ANY,
    "card": {"token": forms.ANY, "number": forms.ANY, "exp_month": forms.ANY, "exp_year": forms.ANY, "cvc": forms.ANY},
    "billing_details": forms.ANY,
    "metadata": forms.ANY,
    "allow_redisplay": forms.ANY,
}


def new_card_method(sim: Simulator, card: TestCard, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """A new, unattached PaymentMethod for a test card."""
    pm = {
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
    if forms.string(params, "type", required=True) != "card":
        raise invalid("Only card payment methods are simulated.", param="type")
    details = params.get("card") if isinstance(params.get("card"), dict) else {}
    token, number = details.get("token"), details.get("number")
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
    Route("POST", r"/v1/payment_methods", create, _CREATE),
    Route(
        "GET",
        r"/v1/payment_methods",
        list_all,
        {"customer": forms.ANY, "type": forms.ANY, "limit": forms.ANY, "starting_after": forms.ANY},
    ),
    Route("GET", rf"/v1/payment_methods/{ID}", retrieve),
    Route("POST", rf"/v1/payment_methods/{ID}/attach", attach, {"customer": forms.ANY}),
    Route("POST", rf"/v1/payment_methods/{ID}/detach", detach),
]
