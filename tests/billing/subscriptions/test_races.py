"""Concurrent plan changes of one account (each its own service, as separate Lambda containers
would be): never two subscriptions, never a double charge."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from account_billing.billing.subscriptions.service import SubscriptionService
from account_billing.core.identity import Caller
from tests.support.billing import new_context
from tests.support.concurrency import race
from tests.support.lifecycle import Billing, Lifecycle

pytestmark = pytest.mark.usefixtures("lifecycle")


def _service() -> SubscriptionService:
    return SubscriptionService(new_context())


def test_concurrent_subscribes_make_one_subscription(lifecycle: Lifecycle) -> None:
    Billing("user-ada").with_card()
    lifecycle.sim.latency = 0.05  # Stripe's answers take a while: the requests overlap

    def change(plan: str, key: str) -> Callable[[SubscriptionService], object]:
        return lambda service: service.change(Caller("user-ada"), plan, key)

    statuses = race([change("developer", "k-0"), change("essential", "k-1"), change("developer", "k-2")], _service)

    assert sorted(statuses) == [200, 409, 409]  # the others are told to retry
    assert len(lifecycle.sim.all("subscription")) == 1
    charges = [p for p in lifecycle.sim.all("payment_intent") if p["capture_method"] != "manual"]
    assert len(charges) == 1
    # The change lock is gone: the next change goes through.
    _service().change(Caller("user-ada"), "professional", "k-after")
    assert lifecycle.subscription("user-ada")["items"]["data"][0]["price"]["id"] == "price_professional_monthly"
