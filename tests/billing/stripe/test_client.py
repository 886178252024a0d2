"""How Stripe is reached: the rate limiter, the secret key, the client's construction and the
API base, retries of 429 answers."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import stripe
from pydantic import ValidationError

from account_billing.billing.errors import PaymentProviderUnavailable
from account_billing.billing.settings import BillingSettings
from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.client import API_VERSION, http_client, secret_key, stripe_client
from account_billing.billing.stripe.gateway import StripeGateway, gateway_for
from account_billing.billing.stripe.ratelimit import RateLimiter
from stripe_simulator import Simulator
from tests.support.stripe import simulated


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_rate_limiter_spaces_calls_at_the_configured_rate() -> None:
    time = FakeTime()
    limiter = RateLimiter(10, burst=1, clock=time.clock, sleep=time.sleep)

    for _ in range(21):
        limiter.acquire()

    assert time.now == pytest.approx(2.0)  # 21 calls at 10/s: the first at once, then 0.1 s apart


def test_the_rate_limiter_halves_on_429_and_recovers() -> None:
    time = FakeTime()
    limiter = RateLimiter(20, clock=time.clock, sleep=time.sleep)

    limiter.throttle()
    limiter.throttle()
    assert limiter.rate == 5
    for _ in range(100):
        limiter.recover()
    assert limiter.rate == 20
    for _ in range(10):
        limiter.throttle()
    assert limiter.rate == 1  # never below one call a second


@pytest.mark.usefixtures("aws")
def test_the_secret_key_comes_from_ssm() -> None:
    boto3.client("ssm").put_parameter(Name="/test/stripe", Value="sk_test_fromssm", Type="SecureString")

    key = secret_key(BillingSettings(stripe_secret_key_parameter="/test/stripe"))

    assert key == "sk_test_fromssm"


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(("value", "mode"), [("sk_live_real", "test"), ("not-a-key", "stripe")])
def test_a_wrong_key_is_refused(value: str, mode: Any) -> None:
    name = f"/test/stripe-{mode}"  # Powertools caches parameters by name
    boto3.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString")

    with pytest.raises(RuntimeError):
        secret_key(BillingSettings(stripe_secret_key_parameter=name, stripe_mode=mode))


@pytest.mark.usefixtures("aws")
def test_the_client_pins_the_api_version_and_bounds_retries() -> None:
    boto3.client("ssm").put_parameter(Name="/test/stripe-pinned", Value="sk_test_pinned", Type="SecureString")
    with simulated(Simulator()) as simulator:
        gateway = gateway_for(BillingSettings(stripe_secret_key_parameter="/test/stripe-pinned"))
        gateway.customers.create("acct-1", "customer-acct-1")
    requestor = gateway.api.client._requestor
    assert requestor._options.stripe_version == API_VERSION
    assert requestor._options.max_network_retries == 2
    [call] = simulator.calls
    assert call.idempotency_key == "customer-acct-1"


def test_stripe_is_reached_at_its_own_api_unless_a_base_is_configured() -> None:
    own = stripe_client("sk_live_real")._requestor._options.base_addresses
    assert own.get("api") == "https://api.stripe.com"
    elsewhere = stripe_client("sk_test_x", api_base="http://127.0.0.1:12111")._requestor._options.base_addresses
    assert elsewhere.get("api") == "http://127.0.0.1:12111"


def test_a_live_key_is_never_sent_anywhere_but_to_stripe() -> None:
    with pytest.raises(RuntimeError, match="test key"):
        stripe_client("sk_live_real", api_base="http://127.0.0.1:12111")


def test_the_settings_take_an_api_base_and_no_simulator_mode() -> None:
    settings = BillingSettings.model_validate({"stripe_api_base": "http://127.0.0.1:12111", "stripe_mode": "test"})
    assert settings.stripe_api_base == "http://127.0.0.1:12111"
    with pytest.raises(ValidationError):
        BillingSettings.model_validate({"stripe_mode": "simulator"})
    with pytest.raises(ValidationError):
        BillingSettings.model_validate({"stripe_api_base": "not a url"})


def test_a_container_reaches_stripe_over_the_network_unless_given_a_client() -> None:
    assert isinstance(http_client(), stripe.RequestsClient)
    with simulated(Simulator()):
        assert not isinstance(http_client(), stripe.RequestsClient)
    assert isinstance(http_client(), stripe.RequestsClient)


def test_a_429_storm_that_does_not_end_is_reported_unavailable() -> None:
    simulator = Simulator()
    client = stripe.StripeClient("sk_test_x", http_client=simulator.http_client())
    sleeps: list[float] = []
    gateway = StripeGateway(StripeApi(client, sleep=sleeps.append))
    simulator.inject("rate_limit", times=100)

    with pytest.raises(PaymentProviderUnavailable):
        gateway.customers.create("acct-1", "customer-acct-1")

    assert len(sleeps) == 3
    assert len(simulator.calls) == 4
