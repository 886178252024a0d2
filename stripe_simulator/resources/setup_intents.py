"""SetupIntents: how a web app collects a card with Stripe.js, without the card number ever
reaching the service. Confirming one attaches its PaymentMethod to the customer."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import invalid
from ..routing import Route
from .common import card_error, live_customer, lookup
from .payment_methods import card_of, resolve

if TYPE_CHECKING:
    from ..core import Simulator


def create(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    customer = forms.string(params, "customer")
    if customer:
        live_customer(sim, customer)
    usage = forms.string(params, "usage") or "off_session"
    identifier = sim.new_id("seti")
    intent = {
        "id": identifier,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": f"{identifier}_secret_{secrets.token_urlsafe(24)}",
        "created": sim.now(),
        "customer": customer,
        "customer_account": None,
        "description": params.get("description"),
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": forms.metadata(params),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
        },
        "payment_method_types": params.get("allowed_payment_method_types") or ["card"],
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": usage,
    }
    sim.save(intent)
    sim.emit("setup_intent.created", intent)
    if params.get("payment_method"):
        intent["payment_method"] = resolve(sim, params["payment_method"])["id"]
        intent["status"] = "requires_confirmation"
    if forms.boolean(params, "confirm"):
        return _confirm(sim, intent)
    return intent


def _confirm(sim: Simulator, intent: dict[str, Any]) -> dict[str, Any]:
    if intent["payment_method"] is None:
        raise invalid(
            "You cannot confirm this SetupIntent because it's missing a payment method.",
            code="setup_intent_unexpected_state",
        )
    pm = lookup(sim, "payment_method", intent["payment_method"], "PaymentMethod")
    card = card_of(sim, pm)
    if card.decline_on_attach is not None:
        intent["status"] = "requires_payment_method"
        intent["last_setup_error"] = {
            "code": card.decline_on_attach.code,
            "decline_code": card.decline_on_attach.decline_code,
            "message": card.decline_on_attach.message,
            "type": "card_error",
        }
        sim.emit("setup_intent.setup_failed", intent)
        raise card_error(card.decline_on_attach, setup_intent=intent)
    if intent["customer"]:
        pm["customer"] = intent["customer"]
        sim.emit("payment_method.attached", pm)
    intent["status"] = "succeeded"
    sim.emit("setup_intent.succeeded", intent)
    return intent


def confirm(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    intent = lookup(sim, "setup_intent", id, "setup_intent")
    if intent["status"] in ("succeeded", "canceled"):
        raise invalid(
            f"You cannot confirm this SetupIntent because it has a status of {intent['status']}.",
            code="setup_intent_unexpected_state",
            setup_intent=intent,
        )
    if params.get("payment_method"):
        intent["payment_method"] = resolve(sim, params["payment_method"])["id"]
    return _confirm(sim, intent)


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "setup_intent", id, "setup_intent")


def cancel(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    intent = lookup(sim, "setup_intent", id, "setup_intent")
    if intent["status"] in ("succeeded", "canceled"):
        raise invalid(
            f"You cannot cancel this SetupIntent because it has a status of {intent['status']}.",
            code="setup_intent_unexpected_state",
            setup_intent=intent,
        )
    intent["status"] = "canceled"
    intent["cancellation_reason"] = params.get("cancellation_reason") or None
    sim.emit("setup_intent.canceled", intent)
    return intent


ROUTES = [
    Route("v1.setup_intents.create", create),
    Route("v1.setup_intents.retrieve", retrieve),
    Route("v1.setup_intents.confirm", confirm),
    Route("v1.setup_intents.cancel", cancel),
]
