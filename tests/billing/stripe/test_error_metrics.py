"""Stripe's 429s and failures are counted where the gateway translates them (the Stripe alarms'
metrics), each answer once, from whichever thread made the request."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from account_billing.billing.errors import PaymentProviderUnavailable
from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.client import stripe_client
from account_billing.billing.stripe.errors import StripeRateLimited
from stripe_simulator import Simulator
from tests.support.emf import EmittedMetrics
from tests.support.stripe import TEST_KEY


def _api(sim: Simulator) -> StripeApi:
    return StripeApi(stripe_client(TEST_KEY, http_client=sim.http_client()), sleep=lambda _: None)


def _create_customer(api: StripeApi) -> str:
    return api.call(lambda c: c.v1.customers.create({"description": "metrics"})).id


def test_each_429_counts_as_rate_limited(emitted_metrics: EmittedMetrics) -> None:
    sim = Simulator()
    sim.inject("rate_limit", path="/v1/customers", times=2)

    assert _create_customer(_api(sim)).startswith("cus_")

    assert emitted_metrics.total("StripeRateLimited") == 2
    assert emitted_metrics.values("StripeUnavailable") == []


def test_a_request_that_fails_after_the_retries_counts_as_unavailable_once(emitted_metrics: EmittedMetrics) -> None:
    sim = Simulator()
    sim.inject("api_error", path="/v1/customers", times=100)

    with pytest.raises(PaymentProviderUnavailable):
        _create_customer(_api(sim))

    assert emitted_metrics.values("StripeUnavailable") == [1.0]
    assert [c.status for c in sim.calls_to("POST", "/v1/customers")] == [500, 500, 500]  # stripe-python retried twice


def test_429s_on_many_threads_are_all_counted(emitted_metrics: EmittedMetrics) -> None:
    sim = Simulator()
    sim.inject("rate_limit", path="/v1/customers", times=24)
    api = _api(sim)

    def create(_: int) -> str | None:
        try:
            return _create_customer(api)
        except StripeRateLimited:  # four 429s in a row for one request: it gives up
            return None

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(16)))

    answered_429 = [c for c in sim.calls_to("POST", "/v1/customers") if c.status == 429]
    assert len(answered_429) == 24
    assert emitted_metrics.total("StripeRateLimited") == 24
