"""Billing's business events, each counted once where it happens: holds placed, plan changes by
kind, Stripe events applied or failing to apply."""

from __future__ import annotations

import pytest

from stripe_simulator import Simulator
from tests.support.emf import EmittedMetrics
from tests.support.lifecycle import Billing, Lifecycle

pytestmark = pytest.mark.usefixtures("lifecycle")


def test_adding_a_card_places_and_counts_one_hold(emitted_metrics: EmittedMetrics) -> None:
    Billing("user-ada").with_card()

    assert emitted_metrics.values("HoldPlaced") == [1.0]
    assert emitted_metrics.values("CardVerified") == [1.0]


def test_each_kind_of_plan_change_is_counted(emitted_metrics: EmittedMetrics) -> None:
    ada = Billing("user-ada").with_card()

    ada.change("developer")
    ada.change("professional")  # a larger pre-authorization: a second hold first
    ada.change("essential")  # a downgrade, at the period end
    ada.undo()
    ada.change("community")  # a cancellation, at the period end

    counted = {
        name: emitted_metrics.total(name)
        for name in (
            "Subscribed",
            "PlanUpgraded",
            "PlanDowngraded",
            "ScheduledChangeUndone",
            "SubscriptionCancelled",
            "HoldPlaced",
        )
    }
    assert counted == {
        "Subscribed": 1,
        "PlanUpgraded": 1,
        "PlanDowngraded": 1,
        "ScheduledChangeUndone": 1,
        "SubscriptionCancelled": 1,
        "HoldPlaced": 2,
    }


def test_an_event_that_fails_to_apply_is_counted_then_applied_on_redelivery(
    lifecycle: Lifecycle, stripe_sim: Simulator, emitted_metrics: EmittedMetrics
) -> None:
    Billing("user-ada").with_card().change("developer")
    [created] = [e for e in lifecycle.sim.events() if e["type"] == "customer.subscription.created"]
    emitted_metrics.blobs.clear()
    fault = stripe_sim.inject("api_error", path="/v1/subscriptions", times=1000)

    failed = lifecycle.signed(created)

    assert failed[0] == 503, failed
    assert emitted_metrics.values("StripeEventFailed") == [1.0]
    assert emitted_metrics.values("StripeEventApplied") == []
    fault.times = 0
    assert lifecycle.signed(created)[0] == 200
    assert emitted_metrics.values("StripeEventApplied") == [1.0]
    assert emitted_metrics.total("StripeEvent") == 1  # deliveries accepted
