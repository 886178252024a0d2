"""Releasing holds: by their schedule, by the sweeper, by both at once, after crashes, through
Stripe's failures. Every hold is released exactly once and none is left held."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier
from typing import Any

import pytest

from account_billing.billing.cards.models import AddPaymentMethodRequest
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.holds.sweeper import Sweeper
from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.client import stripe_client
from account_billing.billing.stripe.gateway import StripeGateway
from account_billing.core.identity import Caller
from stripe_simulator import Simulator
from tests.support.billing import (
    Cards,
    drain_tasks,
    due_holds,
    holds,
    invoke_release,
    later,
    new_context,
    new_releaser,
    new_service,
    new_table,
    schedules,
)
from tests.support.stripe import TEST_KEY, stripe_object

pytestmark = pytest.mark.usefixtures("billing")


def _account(sub: str) -> Cards:
    cards = Cards(sub)
    assert cards.create_account(f"u_{sub.replace('-', '_')}")[0] == 201
    return cards


def _placed(sub: str = "user-ada", card: str = "pm_card_visa") -> dict[str, Any]:
    """An account with a card whose hold is placed; the stored hold."""
    cards = _account(sub)
    status, _, body = cards.add(card)
    assert status in (201, 202), body
    [hold] = holds(sub)
    return hold


def _placed_long_ago(sub: str, card: str = "pm_card_visa") -> dict[str, Any]:
    """A hold placed two days ago: due now."""
    _account(sub)
    service = new_service(clock=later(days=-2))
    service.add(Caller(sub), AddPaymentMethodRequest(payment_method=card), f"key-{uuid.uuid4()}")
    [hold] = holds(sub)
    return hold


def _cancels(sim: Simulator, intent_id: str) -> int:
    return len([c for c in sim.calls_to("POST", f"/v1/payment_intents/{intent_id}/cancel") if not c.replayed])


def _event(hold: dict[str, Any]) -> dict[str, Any]:
    return {"release": {"account": hold["sub"], "hold_id": hold["hold_id"]}}


def _quiet_gateway(sim: Simulator, sleeps: list[float]) -> StripeGateway:
    return StripeGateway(StripeApi(stripe_client(TEST_KEY, http_client=sim.http_client()), sleep=sleeps.append))


# ---------------------------------------------------------------------------- by schedule
def test_the_schedule_releases_the_hold_by_cancelling_its_payment_intent(stripe_sim: Simulator) -> None:
    hold = _placed()
    [schedule] = schedules()

    result = invoke_release(json.loads(schedule["Target"]["Input"]))

    assert result == {"result": "released", "outcome": "canceled"}
    intent = stripe_object(stripe_sim, hold["payment_intent_id"], "payment_intent")
    assert intent["status"] == "canceled"
    assert stripe_object(stripe_sim, intent["latest_charge"], "charge")["refunded"] is True  # the authorization is void
    [released] = holds("user-ada")
    assert (released["status"], released["outcome"]) == ("released", "canceled")
    assert "GSI1PK" not in released
    assert "GSI1SK" not in released  # out of the due index
    [card] = Cards("user-ada").list()[2]["payment_methods"]
    assert (card["hold"]["status"], card["hold"]["outcome"]) == ("released", "canceled")  # the hold as it is now
    assert card["hold"]["released_at"] is not None


def test_a_second_delivery_of_the_schedule_releases_nothing_more(stripe_sim: Simulator) -> None:
    hold = _placed()

    first = invoke_release(_event(hold))
    second = invoke_release(_event(hold))

    assert first["result"] == "released"
    assert second == {"result": "skipped", "outcome": None}
    assert _cancels(stripe_sim, hold["payment_intent_id"]) == 1


def test_an_unknown_hold_is_skipped(stripe_sim: Simulator) -> None:
    _account("user-ada")

    result = invoke_release({"release": {"account": "user-ada", "hold_id": "hold_" + "0" * 32}})

    assert result["result"] == "skipped"
    assert stripe_sim.calls == []


def test_a_malformed_event_is_refused() -> None:
    with pytest.raises(ValueError, match="hold_id"):
        invoke_release({"release": {"account": "user-ada", "hold_id": "../etc"}})


# ---------------------------------------------------------------------------- concurrency
def test_schedules_and_sweepers_racing_cancel_each_hold_exactly_once(stripe_sim: Simulator) -> None:
    placed = [_placed_long_ago(f"user-{i}") for i in range(4)]
    # per hold: its schedule delivered three times, and queued twice more (sweeps) for the worker;
    # each in its own container
    calls: list[Any] = [lambda r, h=h: r.release(h["sub"], h["hold_id"]) for h in placed for _ in range(3)]
    calls += [lambda r, h=h: r.release_due(h["sub"], h["hold_id"]) for h in placed for _ in range(2)]  # worker
    releasers = [new_releaser() for _ in calls]
    barrier = Barrier(len(calls))

    def run(index: int) -> Any:
        barrier.wait()
        return calls[index](releasers[index])

    with ThreadPoolExecutor(len(calls)) as pool:
        list(pool.map(run, range(len(calls))))

    for hold in placed:
        assert _cancels(stripe_sim, hold["payment_intent_id"]) == 1, hold["hold_id"]
        assert stripe_object(stripe_sim, hold["payment_intent_id"], "payment_intent")["status"] == "canceled"
    assert Counter(h["status"] for h in holds()) == {"released": 4}
    assert due_holds(datetime.now(UTC) + timedelta(days=30)) == []


# ---------------------------------------------------------------------------- Stripe's states
def test_a_captured_hold_is_refunded_in_full(stripe_sim: Simulator) -> None:
    hold = _placed()
    client = stripe_client(TEST_KEY, http_client=stripe_sim.http_client())
    client.v1.payment_intents.capture(hold["payment_intent_id"])

    result = invoke_release(_event(hold))

    assert result == {"result": "released", "outcome": "refunded"}
    [refund] = stripe_sim.all("refund")
    assert (refund["amount"], refund["payment_intent"]) == (5000, hold["payment_intent_id"])
    intent = stripe_object(stripe_sim, hold["payment_intent_id"], "payment_intent")
    charge = stripe_object(stripe_sim, intent["latest_charge"], "charge")
    assert charge["amount_refunded"] == charge["amount_captured"] == 5000


def test_an_authorization_that_expired_on_its_own_is_recorded(stripe_sim: Simulator) -> None:
    hold = _placed()
    stripe_sim.clock.advance(timedelta(days=8))

    result = invoke_release(_event(hold))

    assert result == {"result": "released", "outcome": "expired"}
    intent = stripe_object(stripe_sim, hold["payment_intent_id"], "payment_intent")
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "automatic")
    assert stripe_sim.all("refund") == []


def test_a_hold_waiting_for_3d_secure_is_released_too(stripe_sim: Simulator) -> None:
    hold = _placed(card="pm_card_threeDSecureRequired")
    assert hold["status"] == "requires_action"

    assert invoke_release(_event(hold))["outcome"] == "canceled"
    assert stripe_object(stripe_sim, hold["payment_intent_id"], "payment_intent")["status"] == "canceled"


# ---------------------------------------------------------------------------- Stripe's failures
def test_a_429_storm_is_ridden_out_with_backoff(stripe_sim: Simulator) -> None:
    hold = _placed()
    stripe_sim.inject("rate_limit", path=f"/v1/payment_intents/{hold['payment_intent_id']}", times=3)
    sleeps: list[float] = []

    report = new_releaser(_quiet_gateway(stripe_sim, sleeps)).release(hold["sub"], hold["hold_id"])

    assert (report.result, report.outcome) == ("released", "canceled")
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[2]  # exponential
    assert [c.status for c in stripe_sim.calls_to("POST", "/v1/payment_intents/")] == [429, 429, 429, 200]


def test_when_stripe_stays_down_the_hold_waits_for_the_next_run(stripe_sim: Simulator) -> None:
    hold = _placed()
    fault = stripe_sim.inject("api_error", path="/v1/payment_intents/", times=1000)

    with pytest.raises(Exception, match=hold["hold_id"]):  # Scheduler retries the invocation
        invoke_release(_event(hold))

    [waiting] = holds()
    assert waiting["status"] == "releasing"
    assert "GSI1SK" in waiting  # still due
    fault.times = 0
    assert invoke_release({"sweep": True})["queued"] == 0  # not due yet by the clock...
    report = new_releaser().release(hold["sub"], hold["hold_id"])  # ...but its claim was given back
    assert report.result == "released"
    assert stripe_object(stripe_sim, hold["payment_intent_id"], "payment_intent")["status"] == "canceled"


# ---------------------------------------------------------------------------- crashes
def test_a_crash_after_stripe_authorized_is_reconciled_by_the_sweeper(stripe_sim: Simulator) -> None:
    cards = _account("user-ada")
    # Stripe authorizes, but every answer is lost on the way back (stripe-python's retries too)
    stripe_sim.inject("timeout_after", method="POST", path="/v1/payment_intents", times=3)

    status, _, body = cards.add("pm_card_visa")

    assert status == 503
    assert body["type"].endswith(":payment-provider-unavailable")
    [intent] = stripe_sim.all("payment_intent")
    assert intent["status"] == "requires_capture"  # money is held at Stripe...
    [hold] = holds()
    assert hold["status"] == "authorizing"  # ...and the hold was recorded before Stripe was called
    assert "payment_intent_id" not in hold

    report = Sweeper(HoldStore(new_table()), new_context().tasks, clock=later(days=2)).sweep(lambda: 300_000)
    drain_tasks()

    assert (report.due, report.queued) == (1, 1)
    assert stripe_object(stripe_sim, intent["id"], "payment_intent")["status"] == "canceled"
    [released] = holds()
    assert (released["status"], released["payment_intent_id"]) == ("released", intent["id"])


def test_retrying_after_a_lost_answer_resumes_the_same_hold(stripe_sim: Simulator) -> None:
    cards = _account("user-ada")
    stripe_sim.inject("timeout_after", method="POST", path="/v1/payment_intents", times=3)
    assert cards.add("pm_card_visa", key="lost-answer-key")[0] == 503

    status, _, body = cards.add("pm_card_visa", key="lost-answer-key")

    assert status == 201
    [intent] = stripe_sim.all("payment_intent")  # the same PaymentIntent, not a second hold
    assert intent["status"] == "requires_capture"
    [hold] = holds()
    assert (hold["status"], hold["payment_intent_id"], hold["hold_id"]) == ("held", intent["id"], body["hold"]["id"])
    assert len(schedules()) == 1


def test_a_crash_before_stripe_answered_leaves_nothing_held(stripe_sim: Simulator) -> None:
    cards = _account("user-ada")
    stripe_sim.inject("timeout", method="POST", path="/v1/payment_intents", times=3)
    assert cards.add("pm_card_visa")[0] == 503
    assert stripe_sim.all("payment_intent") == []

    Sweeper(HoldStore(new_table()), new_context().tasks, clock=later(days=2)).sweep(lambda: 300_000)
    drain_tasks()

    assert (holds()[0]["status"], holds()[0]["outcome"]) == ("released", "not_authorized")


def test_a_releaser_that_died_midway_is_taken_over_when_its_lease_runs_out(stripe_sim: Simulator) -> None:
    hold = _placed_long_ago("user-ada")
    now = datetime.now(UTC)
    assert HoldStore(new_table()).claim(hold["sub"], hold["hold_id"], now, now + timedelta(minutes=5))  # then dies

    assert new_releaser().release(hold["sub"], hold["hold_id"]).result == "skipped"  # lease still running
    report = new_releaser(clock=later(minutes=6)).release(hold["sub"], hold["hold_id"])

    assert report.result == "released"
    assert _cancels(stripe_sim, hold["payment_intent_id"]) == 1
