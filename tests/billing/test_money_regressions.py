"""Money paths found wanting in review, each reproduced first: a webhook that raced an unresolved
add-card request, and a card fingerprint left reserved by a hold that never became a card."""

from __future__ import annotations

from typing import Any

import pytest

from account_billing.billing.records import HoldStore
from account_billing.billing.stripe_events import on_payment_intent_event
from account_billing.billing.sweeper import Sweeper
from stripe_simulator import Simulator
from tests.billing.helpers import Cards, billing_items, holds, later, new_releaser, new_service, new_table, schedules

pytestmark = pytest.mark.usefixtures("billing")


def _account(sub: str) -> Cards:
    cards = Cards(sub)
    cards.create_account(sub.replace("user-", ""))
    return cards


def _capturable_event(stripe_sim: Simulator) -> dict[str, Any]:
    """Stripe's `payment_intent.amount_capturable_updated` for the (only) PaymentIntent: sent for
    every manual-capture authorization, not only after 3-D Secure."""
    [intent] = stripe_sim.all("payment_intent")
    return dict(intent)


def test_the_capturable_event_does_not_touch_a_hold_its_request_has_not_recorded(stripe_sim: Simulator) -> None:
    cards = _account("user-ada")
    # Stripe authorizes, every answer is lost: the hold stays `authorizing`, the API says 503
    stripe_sim.inject("timeout_after", method="POST", path="/v1/payment_intents", times=3)
    assert cards.add("pm_card_visa", key="lost-answer-key")[0] == 503
    intent = _capturable_event(stripe_sim)
    assert intent["status"] == "requires_capture"

    # the webhook arrives before the client retries: it must leave the hold to its request
    assert on_payment_intent_event(new_service(), "payment_intent.amount_capturable_updated", intent) is False
    assert holds()[0]["status"] == "authorizing"

    # the retry resumes the same hold: one PaymentIntent, a verified card, a release schedule
    status, _, body = cards.add("pm_card_visa", key="lost-answer-key")
    assert status == 201, body
    assert len(stripe_sim.all("payment_intent")) == 1
    [hold] = holds()
    assert (hold["status"], hold["payment_intent_id"]) == ("held", intent["id"])
    assert body["payment_method"]["verification"] == "verified"
    assert len(schedules()) == 1


def test_a_hold_that_never_became_a_card_frees_the_cards_fingerprint(stripe_sim: Simulator) -> None:
    cards = _account("user-ada")
    stripe_sim.inject("timeout", method="POST", path="/v1/payment_intents", times=3)
    assert cards.add("pm_card_visa", key="first-key-0001")[0] == 503  # nothing reached Stripe
    assert any(i["SK"].startswith("CARDFP#") for i in billing_items("user-ada"))

    report = Sweeper(HoldStore(new_table()), new_releaser(clock=later(days=2)), clock=later(days=2)).sweep(
        lambda: 300_000
    )
    assert report.outcomes == {"not_authorized": 1}
    assert not any(i["SK"].startswith("CARDFP#") for i in billing_items("user-ada"))

    # the same card can be added again (before the fix: 409 for ever)
    status, _, body = cards.add("pm_card_visa", key="second-key-0002")
    assert status == 201, body


def test_releasing_a_cards_hold_keeps_the_cards_fingerprint(stripe_sim: Simulator) -> None:
    cards = _account("user-ada")
    assert cards.add("pm_card_visa")[0] == 201
    report = Sweeper(HoldStore(new_table()), new_releaser(clock=later(days=2)), clock=later(days=2)).sweep(
        lambda: 300_000
    )
    assert report.outcomes == {"canceled": 1}
    assert any(i["SK"].startswith("CARDFP#") for i in billing_items("user-ada"))
    assert cards.add("pm_card_visa", key="again-key-0003")[0] == 409  # still the same card
