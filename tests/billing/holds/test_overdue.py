"""How long due holds wait: every sweep publishes OldestDueHoldAgeSeconds (what the
holds-overdue alarm watches) after releasing what it can, and counts the releases that failed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from account_billing.billing.cards.models import AddPaymentMethodRequest
from account_billing.billing.holds.store import HoldStore
from account_billing.core.clock import parse_timestamp
from account_billing.core.identity import Caller
from stripe_simulator import Simulator
from tests.support.billing import Cards, drain_tasks, holds, invoke_release, later, new_service, new_table
from tests.support.emf import EmittedMetrics

pytestmark = pytest.mark.usefixtures("billing")


def _hold_placed(sub: str, days_ago: float) -> dict[str, object]:
    """An account whose card's hold was placed `days_ago` (the release delay is a day)."""
    assert Cards(sub).create_account(f"u_{sub.replace('-', '_')}")[0] == 201
    service = new_service(clock=later(days=-days_ago))
    service.add(Caller(sub), AddPaymentMethodRequest(payment_method="pm_card_visa"), f"key-{uuid.uuid4()}")
    [hold] = holds(sub)
    return hold


def _seconds_since(moment: object) -> float:
    return (datetime.now(UTC) - parse_timestamp(str(moment))).total_seconds()


def test_a_sweep_with_nothing_due_reports_that_nothing_waits(emitted_metrics: EmittedMetrics) -> None:
    _hold_placed("user-ada", days_ago=0)  # due tomorrow

    invoke_release({"sweep": True})

    assert emitted_metrics.values("OldestDueHoldAgeSeconds") == [0.0]
    assert emitted_metrics.values("HoldReleaseFailed") == []


def test_a_hold_whose_release_keeps_failing_is_reported_with_its_age(
    stripe_sim: Simulator, emitted_metrics: EmittedMetrics
) -> None:
    hold = _hold_placed("user-ada", days_ago=3)  # due two days ago
    fault = stripe_sim.inject("api_error", path=f"/v1/payment_intents/{hold['payment_intent_id']}", times=1000)

    swept = invoke_release({"sweep": True})
    worked = drain_tasks(rounds=1)  # the queue's worker tries to release it: Stripe fails

    assert (swept["due"], swept["queued"]) == (1, 1)
    assert [len(answer["batchItemFailures"]) for answer in worked] == [1]  # its message comes again
    [age] = emitted_metrics.values("OldestDueHoldAgeSeconds")
    assert _seconds_since(hold["release_at"]) - 60 < age <= _seconds_since(hold["release_at"])
    assert age > 2 * 86_400 - 60  # two days past its release time
    assert emitted_metrics.values("HoldReleaseFailed") == [1.0]
    assert emitted_metrics.total("StripeUnavailable") >= 1

    # Stripe answers again: the next sweep queues it, the worker releases it, nothing waits any more.
    fault.times = 0
    invoke_release({"sweep": True})
    drain_tasks()
    emitted_metrics.blobs.clear()
    assert invoke_release({"sweep": True})["due"] == 0
    assert emitted_metrics.values("OldestDueHoldAgeSeconds") == [0.0]


def test_the_oldest_due_hold_is_the_one_whose_release_time_passed_first() -> None:
    _hold_placed("user-ada", days_ago=2)
    oldest = _hold_placed("user-bob", days_ago=4)
    _hold_placed("user-cy", days_ago=0)  # not due

    found = HoldStore(new_table()).oldest_due(datetime.now(UTC))

    assert found is not None
    assert found.hold_id == oldest["hold_id"]
    assert HoldStore(new_table()).oldest_due(parse_timestamp(str(oldest["release_at"]))) is not None
    assert HoldStore(new_table()).oldest_due(datetime(2000, 1, 1, tzinfo=UTC)) is None
