"""Billing's pure rules and configuration: plans, hold ids, the rate limiter, settings, the
gateway's secret key and construction."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import stripe
from pydantic import ValidationError

from account_billing.billing.gateway import API_VERSION, StripeGateway, gateway_for, secret_key
from account_billing.billing.holds import hold_id_for
from account_billing.billing.plans import PLANS, hold_plan, plan_of, price_id
from account_billing.billing.ratelimit import RateLimiter
from account_billing.billing.scheduling import ReleaseScheduler, schedule_name
from account_billing.billing.settings import BillingSettings
from account_billing.errors import PaymentProviderUnavailable
from stripe_simulator import Simulator, install


def test_plans_hold_the_amounts_of_the_seed() -> None:
    holds = {key: plan.hold_amount for key, plan in PLANS.items()}
    limits = {key: plan.monthly_spending_limit for key, plan in PLANS.items()}

    assert holds == {"community": None, "developer": 5000, "essential": 10000, "professional": 50000}
    assert limits == {"community": None, "developer": 10000, "essential": 10000, "professional": 50000}
    assert [p.key for p in PLANS.values() if p.paid] == ["developer", "essential", "professional"]


@pytest.mark.parametrize(
    ("requested", "current", "expected"),
    [
        ("essential", None, "essential"),
        ("developer", "professional", "developer"),
        (None, "professional", "professional"),
        (None, "community", "developer"),
        (None, None, "developer"),
        (None, "retired-plan", "developer"),
    ],
)
def test_which_plans_hold_a_new_card_gets(requested: str | None, current: str | None, expected: str) -> None:
    assert hold_plan(requested, current).key == expected


def test_price_ids_come_from_configuration() -> None:
    configured = {"developer": "price_dev_123"}

    assert price_id(PLANS["developer"], configured) == "price_dev_123"
    with pytest.raises(LookupError):
        price_id(PLANS["essential"], configured)
    with pytest.raises(LookupError):
        price_id(plan_of(None), configured)


def test_hold_ids_derive_from_the_caller_and_the_key() -> None:
    assert hold_id_for("a", "k1") == hold_id_for("a", "k1")
    assert len({hold_id_for("a", "k1"), hold_id_for("b", "k1"), hold_id_for("a", "k2")}) == 3
    assert len(schedule_name(hold_id_for("a", "k1"))) <= 64


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


def test_the_release_delay_is_at_most_four_days() -> None:
    assert BillingSettings(hold_release_delay_minutes=5760).hold_release_delay_minutes == 5760
    with pytest.raises(ValidationError):
        BillingSettings(hold_release_delay_minutes=5761)
    with pytest.raises(ValidationError):
        BillingSettings(hold_release_delay_minutes=0)


def test_plan_price_ids_are_read_as_json() -> None:
    settings = BillingSettings.model_validate({"plan_price_ids": '{"developer": "price_1"}'})

    assert settings.plan_price_ids == {"developer": "price_1"}


def test_the_scheduler_needs_its_whole_configuration() -> None:
    with pytest.raises(RuntimeError, match="RELEASE_FUNCTION_ARN"):
        ReleaseScheduler.from_settings(object(), BillingSettings(release_schedule_group="g"))


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


def test_the_client_pins_the_api_version_and_bounds_retries() -> None:
    simulator = Simulator()
    previous = install(simulator)
    try:
        gateway = gateway_for(BillingSettings(stripe_mode="simulator"))
        gateway.create_customer("acct-1", "customer-acct-1")
    finally:
        install(previous)
    requestor = gateway.client._requestor
    assert requestor._options.stripe_version == API_VERSION
    assert requestor._options.max_network_retries == 2
    [call] = simulator.calls
    assert call.idempotency_key == "customer-acct-1"


def test_a_429_storm_that_does_not_end_is_reported_unavailable() -> None:
    simulator = Simulator()
    client = stripe.StripeClient("sk_test_x", http_client=simulator.http_client())
    sleeps: list[float] = []
    gateway = StripeGateway(client, sleep=sleeps.append)
    simulator.inject("rate_limit", times=100)

    with pytest.raises(PaymentProviderUnavailable):
        gateway.create_customer("acct-1", "customer-acct-1")

    assert len(sleeps) == 3
    assert len(simulator.calls) == 4
