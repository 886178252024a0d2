"""The plans of the seed and billing's configuration (pure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from account_billing.billing.plans import PLANS, hold_plan, plan_of, price_id
from account_billing.billing.settings import BillingSettings


def test_plans_hold_the_amounts_of_the_seed() -> None:
    holds = {key: plan.hold_amount for key, plan in PLANS.items()}
    limits = {key: plan.monthly_spending_limit for key, plan in PLANS.items()}

    assert holds == {"community": None, "developer": 5000, "essential": 10000, "professional": 50000}
    assert limits == {"community": None, "developer": 10000, "essential": 10000, "professional": 50000}
    assert [p.key for p in PLANS.values() if p.paid] == ["developer", "essential", "professional"]


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("professional", "professional"),
        ("essential", "essential"),
        ("community", "developer"),
        (None, "developer"),
        ("retired-plan", "developer"),
    ],
)
def test_which_plans_hold_a_new_card_gets(current: str | None, expected: str) -> None:
    assert hold_plan(current).key == expected


def test_price_ids_come_from_configuration() -> None:
    configured = {"developer": "price_dev_123"}

    assert price_id(PLANS["developer"], configured) == "price_dev_123"
    with pytest.raises(LookupError):
        price_id(PLANS["essential"], configured)
    with pytest.raises(LookupError):
        price_id(plan_of(None), configured)


def test_the_release_delay_is_at_most_four_days() -> None:
    assert BillingSettings(hold_release_delay_minutes=5760).hold_release_delay_minutes == 5760
    with pytest.raises(ValidationError):
        BillingSettings(hold_release_delay_minutes=5761)
    with pytest.raises(ValidationError):
        BillingSettings(hold_release_delay_minutes=0)


def test_plan_price_ids_are_read_as_json() -> None:
    settings = BillingSettings.model_validate({"plan_price_ids": '{"developer": "price_1"}'})

    assert settings.plan_price_ids == {"developer": "price_1"}
