"""Money paths found wanting in review, each reproduced first: a webhook that raced an unresolved
add-card request, a card fingerprint left reserved by a hold that never became a card, and a
double-submitted card detached from under the request that was adding it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from account_billing.accounts.errors import AccountNotFound
from account_billing.billing.cards.errors import DuplicateCard
from account_billing.billing.cards.models import AddPaymentMethodRequest
from account_billing.billing.cards.records import fingerprint_marker
from account_billing.billing.holds.records import Hold, hold_id_for_card
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.holds.sweeper import Sweeper
from account_billing.billing.plans import DEFAULT_HOLD_PLAN
from account_billing.billing.webhooks.payment_intents import on_payment_intent_event
from account_billing.core.identity import Caller
from stripe_simulator import Simulator
from tests.support.billing import (
    Cards,
    billing_items,
    drain_tasks,
    holds,
    later,
    new_context,
    new_service,
    new_table,
    schedules,
)
from tests.support.stripe import stripe_object

pytestmark = pytest.mark.usefixtures("billing")


def _account(sub: str) -> Cards:
    cards = Cards(sub)
    cards.create_account(sub.replace("user-", ""))
    return cards


def _new_hold(customer: str, card: Any, request_key: str) -> Hold:
    """The hold an add-card request of Ada's records before it calls Stripe."""
    return Hold.new(
        sub="user-ada",
        hold_id=hold_id_for_card("user-ada", request_key),
        plan=DEFAULT_HOLD_PLAN,
        currency="usd",
        customer_id=customer,
        payment_method_id=card.payment_method_id,
        requested_payment_method=card.payment_method_id,
        fingerprint=card.fingerprint,
        now=datetime.now(UTC),
        release_delay=timedelta(days=1),
    )


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

    Sweeper(HoldStore(new_table()), new_context().tasks, clock=later(days=2)).sweep(lambda: 300_000)
    drain_tasks()
    assert holds()[0]["outcome"] == "not_authorized"
    assert not any(i["SK"].startswith("CARDFP#") for i in billing_items("user-ada"))

    # the same card can be added again (before the fix: 409 for ever)
    status, _, body = cards.add("pm_card_visa", key="second-key-0002")
    assert status == 201, body


def test_releasing_a_cards_hold_keeps_the_cards_fingerprint(stripe_sim: Simulator) -> None:
    cards = _account("user-ada")
    assert cards.add("pm_card_visa")[0] == 201
    Sweeper(HoldStore(new_table()), new_context().tasks, clock=later(days=2)).sweep(lambda: 300_000)
    drain_tasks()
    assert holds()[0]["outcome"] == "canceled"
    assert any(i["SK"].startswith("CARDFP#") for i in billing_items("user-ada"))
    assert cards.add("pm_card_visa", key="again-key-0003")[0] == 409  # still the same card


def test_a_second_request_for_the_same_card_does_not_detach_it_from_the_first(stripe_sim: Simulator) -> None:
    _account("user-ada")
    service = new_service()
    account = service.accounts.require_active("user-ada", consistent=True)
    customer = service.customers.ensure(account)
    # request A has attached the card and recorded its hold, and is about to call Stripe
    card = service._attach("pm_card_visa", customer, str(uuid.uuid4()))
    hold = _new_hold(customer, card, "request-a-key")
    service.holds.record(hold, fingerprint_marker("user-ada", str(card.fingerprint), card.payment_method_id))

    # request B (a double submit with another key) sends the same payment method
    with pytest.raises(DuplicateCard):
        service.add(Caller("user-ada"), AddPaymentMethodRequest(payment_method=card.payment_method_id), "request-b-key")
    drain_tasks()  # whatever background work request B left
    assert stripe_object(stripe_sim, card.payment_method_id, "payment_method")["customer"] == customer  # still attached

    # request A goes on and verifies the card
    outcome = service._place(hold, card, make_default=True, recorded=True)
    assert outcome.status == 201
    assert [i["verification"] for i in billing_items("user-ada") if i["SK"].startswith("CARD#")] == ["verified"]


def test_no_hold_is_recorded_for_an_account_being_deleted(stripe_sim: Simulator) -> None:
    """An add-card request that checked the account just before its deletion began must not
    record a hold that the deletion's erasure has already missed."""
    _account("user-ada")
    service = new_service()
    account = service.accounts.require_active("user-ada", consistent=True)  # the request saw an active account
    customer = service.customers.ensure(account)
    card = service._attach("pm_card_visa", customer, str(uuid.uuid4()))
    new_table().client.update_item(  # ...then the deletion started
        TableName=new_table().name,
        Key={"PK": {"S": "ACCOUNT#user-ada"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET #s = :deleting",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":deleting": {"S": "deleting"}},
    )
    hold = _new_hold(customer, card, "late-request-key")
    with pytest.raises(AccountNotFound):
        service.holds.record(hold, fingerprint_marker("user-ada", str(card.fingerprint), card.payment_method_id))
    assert holds("user-ada") == []
