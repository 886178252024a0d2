"""Stripe's events about holds, as the webhook function will hand them over (verified with
stripe-python, then as plain data)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from account_billing.billing.webhooks.payment_intents import on_payment_intent_event
from stripe_simulator import Simulator, WebhookEndpoint
from tests.support.billing import Cards, holds, new_service

pytestmark = pytest.mark.usefixtures("billing")


@pytest.fixture
def delivered(stripe_sim: Simulator) -> list[Any]:
    """Events as a webhook endpoint receives them, checked with Stripe's signature scheme."""
    events: list[Any] = []

    def receive(body: bytes, headers: dict[str, str]) -> int:
        events.append(stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], endpoint.secret))
        return 200

    endpoint = stripe_sim.add_webhook_endpoint(
        WebhookEndpoint(
            receive, enabled_events=("payment_intent.amount_capturable_updated", "payment_intent.payment_failed")
        )
    )
    return events


def _deliver(stripe_sim: Simulator, delivered: list[Any]) -> list[Any]:
    stripe_sim.webhooks.deliver_pending()
    return delivered


def _apply(events: list[Any]) -> list[bool]:
    service = new_service()
    return [on_payment_intent_event(service, e.type, e.data.object.to_dict()) for e in events]


def test_3d_secure_completed_verifies_the_card_once(stripe_sim: Simulator, delivered: list[Any]) -> None:
    ada = Cards("user-ada")
    ada.create_account("ada")
    ada.add("pm_card_threeDSecureRequired")
    stripe_sim.authenticate(stripe_sim.all("payment_intent")[0]["id"])
    [event] = _deliver(stripe_sim, delivered)

    assert _apply([event, event]) == [True, False]  # a repeated delivery changes nothing
    [card] = ada.list()[2]["payment_methods"]
    assert (card["verification"], card["default"], card["hold"]["status"]) == ("verified", True, "held")


def test_3d_secure_failed_marks_the_card_and_keeps_the_hold_for_release(
    stripe_sim: Simulator, delivered: list[Any]
) -> None:
    ada = Cards("user-ada")
    ada.create_account("ada")
    ada.add("pm_card_authenticationRequired")
    stripe_sim.authenticate(stripe_sim.all("payment_intent")[0]["id"], succeed=False)
    [event] = _deliver(stripe_sim, delivered)

    assert _apply([event]) == [True]
    [card] = ada.list()[2]["payment_methods"]
    assert (card["verification"], card["default"]) == ("failed", False)
    assert holds("user-ada")[0]["status"] == "requires_action"  # released by its schedule


def test_events_of_other_payment_intents_are_ignored(stripe_sim: Simulator, delivered: list[Any]) -> None:
    client = stripe.StripeClient("sk_test_x", http_client=stripe_sim.http_client())
    customer = client.v1.customers.create().id
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer}).id
    client.v1.payment_intents.create(
        {
            "amount": 900,
            "currency": "usd",
            "customer": customer,
            "payment_method": pm,
            "capture_method": "manual",
            "confirm": True,
        }
    )

    assert _apply(_deliver(stripe_sim, delivered)) == [False]


def _cancellations(stripe_sim: Simulator) -> list[Any]:
    """The `payment_intent.canceled` events Stripe emitted, as the webhook receives them."""
    return [stripe.Event.construct_from(e, "sk_test_x") for e in stripe_sim.events("payment_intent.canceled")]


def test_an_authorization_stripe_let_expire_releases_the_hold_as_expired(stripe_sim: Simulator) -> None:
    ada = Cards("user-ada")
    ada.create_account("ada")
    ada.add("pm_card_visa")
    stripe_sim.advance(8 * 24 * 3600)  # its release was missed: seven days uncaptured
    stripe_sim.tick()
    [event] = _cancellations(stripe_sim)
    assert event.data.object.cancellation_reason == "automatic"

    assert _apply([event, event]) == [True, False]  # a repeated delivery changes nothing
    [card] = ada.list()[2]["payment_methods"]
    assert (card["hold"]["status"], card["hold"]["outcome"]) == ("released", "expired")
    assert (card["verification"], card["default"]) == ("verified", True)  # the card itself stays good


def test_the_cancellation_of_a_release_of_ours_changes_nothing_more(stripe_sim: Simulator) -> None:
    ada = Cards("user-ada")
    ada.create_account("ada")
    ada.add("pm_card_visa")
    [card] = ada.list()[2]["payment_methods"]
    assert ada.remove(card["id"])[0] == 204  # releases the hold now (voided)
    [event] = _cancellations(stripe_sim)

    assert _apply([event]) == [False]
    assert holds("user-ada")[0]["outcome"] == "canceled"
