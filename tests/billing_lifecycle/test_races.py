"""Concurrent plan changes of one account (each thread its own service, as separate Lambda
containers would be): never two subscriptions, never a double charge."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from account_billing.billing.settings import billing_settings
from account_billing.billing.subscriptions import SubscriptionService
from account_billing.errors import ConcurrentUpdate
from account_billing.identity import Caller
from tests.billing.helpers import new_service
from tests.billing_lifecycle.helpers import Billing, Lifecycle

pytestmark = pytest.mark.usefixtures("lifecycle")


def test_two_subscribes_at_once_make_one_subscription(lifecycle: Lifecycle) -> None:
    Billing("user-ada").with_card()
    lifecycle.sim.latency = 0.05  # Stripe's answers take a while: the requests overlap
    services = [SubscriptionService(new_service(), billing_settings()) for _ in range(3)]
    barrier = Barrier(len(services))

    def run(index: int) -> str:
        barrier.wait()
        try:
            services[index].change(Caller("user-ada"), ["developer", "essential", "developer"][index], f"key-{index}")
        except ConcurrentUpdate:
            return "retry"
        return "done"

    with ThreadPoolExecutor(len(services)) as pool:
        outcomes = list(pool.map(run, range(len(services))))

    assert sorted(outcomes) == ["done", "retry", "retry"]
    assert len(lifecycle.sim.all("subscription")) == 1
    charges = [p for p in lifecycle.sim.all("payment_intent") if p["capture_method"] != "manual"]
    assert len(charges) == outcomes.count("done")  # each change that went through charged once
    # The lock is gone: the next change goes through.
    services[0].change(Caller("user-ada"), "professional", "key-after")
    assert lifecycle.subscription("user-ada")["items"]["data"][0]["price"]["id"] == "price_professional_monthly"
