"""PaymentIntents, with Stripe's state machine: confirmation with a card (declined, asking for
3-D Secure, or authorized), manual capture (`requires_capture` until captured or cancelled),
cancellation, and the expiry of an uncaptured authorization after seven days."""

from __future__ import annotations

import heapq
import secrets
from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import StripeAPIError, invalid
from ..routing import Route
from .charges import new_charge
from .common import card_error, list_of, live_customer, lookup
from .payment_methods import card_of, resolve

if TYPE_CHECKING:
    from ..core import Simulator

AUTHORIZATION_WINDOW = 7 * 24 * 3600  # an uncaptured card authorization lasts seven days
MINIMUM_AMOUNT = 50  # in the smallest unit of USD, EUR, GBP...
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")


def _unexpected_state(intent: dict[str, Any], action: str, allowed: tuple[str, ...]) -> StripeAPIError:
    return StripeAPIError(
        400,
        f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}. Only a "
        f"PaymentIntent with one of the following statuses may be {action}ed: {', '.join(allowed)}.",
        code="payment_intent_unexpected_state",
        payment_intent=intent,
    )


def create(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    amount = forms.integer(params, "amount", required=True) or 0
    if amount < MINIMUM_AMOUNT:
        raise invalid("Amount must be at least $0.50 usd", param="amount", code="amount_too_small")
    currency = (forms.string(params, "currency", required=True) or "").lower()
    if len(currency) != 3 or not currency.isalpha():
        raise invalid(f"Invalid currency: {currency}.", param="currency")
    capture_method = forms.string(params, "capture_method") or "automatic_async"
    customer = forms.string(params, "customer")
    if customer:
        live_customer(sim, customer)
    confirm_now = forms.boolean(params, "confirm")
    if "off_session" in params and not confirm_now:
        raise invalid("off_session can only be used when confirm=true.", param="off_session")
    pm_id = None
    if params.get("payment_method"):
        pm = resolve(sim, params["payment_method"])
        if pm["customer"] not in (None, customer):
            raise invalid("The provided PaymentMethod belongs to a different Customer.", param="payment_method")
        pm_id = pm["id"]
    identifier = sim.new_id("pi")
    automatic = params.get("automatic_payment_methods")
    intent: dict[str, Any] = {
        "id": identifier,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {
            "enabled": forms.boolean(automatic, "enabled"),
            "allow_redirects": automatic.get("allow_redirects", "always"),
        }
        if isinstance(automatic, dict)
        else None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{identifier}_secret_{secrets.token_urlsafe(18)}",
        "confirmation_method": forms.string(params, "confirmation_method") or "automatic",
        "created": sim.now(),
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": params.get("description"),
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": forms.metadata(params),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": pm_id,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": params.get("allowed_payment_method_types") or ["card"],
        "processing": None,
        "receipt_email": params.get("receipt_email"),
        "review": None,
        "setup_future_usage": params.get("setup_future_usage"),
        "shipping": None,
        "source": None,
        "statement_descriptor": params.get("statement_descriptor"),
        "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
        "status": "requires_confirmation" if pm_id else "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }
    sim.save(intent)
    sim.emit("payment_intent.created", intent)
    if confirm_now:
        return _confirm(sim, intent, off_session=forms.boolean(params, "off_session"))
    return intent


def _confirm(sim: Simulator, intent: dict[str, Any], *, off_session: bool) -> dict[str, Any]:
    if intent["payment_method"] is None:
        raise invalid(
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
        )
    pm = lookup(sim, "payment_method", intent["payment_method"], "PaymentMethod")
    card = card_of(sim, pm)
    decline = card.decline_on_charge or card.decline_on_attach
    if decline is not None:
        charge = new_charge(sim, intent, pm, captured=False, failure=decline)
        error = {
            "charge": charge["id"],
            "code": decline.code,
            "decline_code": decline.decline_code,
            "message": decline.message,
            "payment_method": pm,
            "type": "card_error",
        }
        intent.update(status="requires_payment_method", latest_charge=charge["id"], last_payment_error=error)
        sim.emit("charge.failed", charge)
        sim.emit("payment_intent.payment_failed", intent)
        raise card_error(decline, charge=charge["id"], payment_intent=intent, payment_method=pm)
    if card.requires_authentication and not sim.private(intent["id"]).get("authenticated"):
        if off_session:
            error = {
                "code": "authentication_required",
                "decline_code": "authentication_required",
                "message": "Your card was declined. This transaction requires authentication.",
                "payment_method": pm,
                "type": "card_error",
            }
            intent.update(status="requires_payment_method", last_payment_error=error)
            sim.emit("payment_intent.payment_failed", intent)
            raise StripeAPIError(
                402,
                error["message"],
                type="card_error",
                code="authentication_required",
                decline_code="authentication_required",
                payment_intent=intent,
                payment_method=pm,
            )
        intent.update(
            status="requires_action",
            next_action={
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {
                    "type": "three_d_secure_redirect",
                    "stripe_js": f"{sim.hooks_base}/3d_secure_2/hosted?payment_intent={intent['id']}",
                    "source": sim.new_id("src"),
                },
            },
        )
        sim.emit("payment_intent.requires_action", intent)
        return intent
    _authorize(sim, intent, pm)
    return intent


def _authorize(sim: Simulator, intent: dict[str, Any], pm: dict[str, Any]) -> None:
    manual = intent["capture_method"] == "manual"
    charge = new_charge(sim, intent, pm, captured=not manual)
    intent.update(latest_charge=charge["id"], last_payment_error=None, next_action=None)
    if pm["customer"] is None:
        sim.private(pm["id"])["consumed"] = True
    if manual:
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
        heapq.heappush(sim.expiry_heap, (sim.now() + AUTHORIZATION_WINDOW, intent["id"]))
        sim.emit("charge.succeeded", charge)
        sim.emit("payment_intent.amount_capturable_updated", intent, {"amount_capturable": 0})
    else:
        intent.update(status="succeeded", amount_received=intent["amount"])
        sim.emit("charge.succeeded", charge)
        sim.emit("payment_intent.succeeded", intent)


def authenticate(sim: Simulator, intent_id: str, *, succeed: bool = True) -> dict[str, Any]:
    """The customer completes (or fails) 3-D Secure in Stripe.js: a test helper, not an endpoint."""

    def run() -> dict[str, Any]:
        intent = lookup(sim, "payment_intent", intent_id)
        if intent["status"] != "requires_action":
            raise ValueError(f"{intent_id} is {intent['status']}, not requires_action")
        if succeed:
            sim.private(intent_id)["authenticated"] = True
            pm = lookup(sim, "payment_method", intent["payment_method"])
            _authorize(sim, intent, pm)
            from .invoices import intent_succeeded  # noqa: PLC0415

            intent_succeeded(sim, intent)  # an invoice's payment: the invoice is paid
        else:
            intent.update(
                status="requires_payment_method",
                next_action=None,
                last_payment_error={
                    "code": "payment_intent_authentication_failure",
                    "message": "The provided PaymentMethod has failed authentication.",
                    "type": "invalid_request_error",
                },
            )
            sim.emit("payment_intent.payment_failed", intent)
        return intent

    result: dict[str, Any] = sim.run(run)
    return result


def confirm(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    intent = lookup(sim, "payment_intent", id, "payment_intent")
    allowed = ("requires_payment_method", "requires_confirmation", "requires_action")
    if intent["status"] not in allowed:
        raise _unexpected_state(intent, "confirm", allowed)
    if params.get("payment_method"):
        intent["payment_method"] = resolve(sim, params["payment_method"])["id"]
    return _confirm(sim, intent, off_session=forms.boolean(params, "off_session"))


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "payment_intent", id, "payment_intent")


def cancel(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    intent = lookup(sim, "payment_intent", id, "payment_intent")
    if intent["status"] not in CANCELABLE:
        raise _unexpected_state(intent, "cancel", CANCELABLE)
    _cancel(sim, intent, forms.string(params, "cancellation_reason"))
    return intent


def _cancel(sim: Simulator, intent: dict[str, Any], reason: str | None) -> None:
    if intent["status"] == "requires_capture" and intent["latest_charge"]:
        charge = sim.objects[intent["latest_charge"]]
        charge.update(refunded=True, amount_refunded=charge["amount"])  # the authorization is released
    intent.update(
        status="canceled", cancellation_reason=reason, canceled_at=sim.now(), amount_capturable=0, next_action=None
    )
    sim.emit("payment_intent.canceled", intent)


def capture(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    intent = lookup(sim, "payment_intent", id, "payment_intent")
    if intent["status"] != "requires_capture":
        raise _unexpected_state(intent, "capture", ("requires_capture",))
    amount = forms.integer(params, "amount_to_capture") or intent["amount_capturable"]
    if amount > intent["amount_capturable"]:
        raise invalid(
            "The amount to capture is greater than the amount capturable.",
            param="amount_to_capture",
            code="amount_too_large",
        )
    charge = sim.objects[intent["latest_charge"]]
    charge.update(captured=True, amount_captured=amount, amount_refunded=charge["amount"] - amount)
    intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
    intent["metadata"] = forms.metadata(params, intent["metadata"])
    sim.emit("charge.captured", charge)
    sim.emit("payment_intent.succeeded", intent)
    return intent


def list_all(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    customer = params.get("customer")
    items = [pi for pi in sim.all("payment_intent") if customer is None or pi["customer"] == customer]
    return list_of(sim, "/v1/payment_intents", items, params)


def expire_uncaptured(sim: Simulator) -> None:
    """Cancel (reason "automatic") every authorization left uncaptured for seven days."""
    now = sim.now()
    heap = sim.expiry_heap
    while heap and heap[0][0] <= now:
        _, intent_id = heapq.heappop(heap)
        intent = sim.objects.get(intent_id)
        if intent is not None and intent["status"] == "requires_capture":
            _cancel(sim, intent, "automatic")


ROUTES = [
    Route("v1.payment_intents.create", create),
    Route("v1.payment_intents.list", list_all),
    Route("v1.payment_intents.retrieve", retrieve),
    Route("v1.payment_intents.confirm", confirm),
    Route("v1.payment_intents.cancel", cancel),
    Route("v1.payment_intents.capture", capture),
]
