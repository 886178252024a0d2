"""The whole subscription lifecycle on the Stripe simulator, through the functions: subscribe,
upgrade with proration, downgrade at the period end, cancel and undo, a failing card to
past_due, deletion back to Community; the mirror equals Stripe's state at every step."""

from __future__ import annotations

from typing import Any

import pytest

from stripe_simulator.cards import CARDS
from tests.support.lifecycle import (
    MONTHLY,
    PRICE_IDS,
    Billing,
    Lifecycle,
    mirrored,
    mirrored_invoices,
    profile_plan,
)
from tests.support.profile import ProfileClient
from tests.support.stripe import stripe_object

pytestmark = pytest.mark.usefixtures("lifecycle")


def _paid(life: Lifecycle, customer: str) -> list[dict[str, Any]]:
    return [i for i in life.sim.all("invoice") if i["customer"] == customer]


def test_the_plans_are_public_with_prices_limits_and_pre_authorizations() -> None:
    status, headers, body = Billing("user-ada").plans()

    assert status == 200
    assert "public" in {k.lower(): v for k, v in headers.items()}["cache-control"]
    assert [(p["key"], p["monthly_price"], p["spending_limit"], p["pre_authorization"]) for p in body["plans"]] == [
        ("community", 0, None, None),
        ("developer", MONTHLY["developer"], 100_00, 50_00),
        ("essential", MONTHLY["essential"], 100_00, 100_00),
        ("professional", MONTHLY["professional"], 500_00, 500_00),
    ]


def test_subscribe_upgrade_downgrade_cancel_and_undo(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    assert ada.subscription()[2]["plan"] == "community"

    status, _, view = ada.change("developer")
    assert (status, view["plan"], view["status"], view["scheduled_change"]) == (200, "developer", "active", None)
    assert profile_plan("user-ada") == "developer"
    subscription = lifecycle.subscription("user-ada")
    [first] = _paid(lifecycle, subscription["customer"])
    assert (first["status"], first["amount_paid"]) == ("paid", MONTHLY["developer"])

    # Upgrade ten days in: at once, the proration invoiced and paid immediately.
    lifecycle.advance(10)
    preview = ada.preview("professional")[2]
    status, _, view = ada.change("professional")
    assert (status, view["plan"]) == (200, "professional")
    upgrade = max(_paid(lifecycle, subscription["customer"]), key=lambda i: lifecycle.sim.sequence(i["id"]))
    assert (upgrade["billing_reason"], upgrade["status"]) == ("subscription_update", "paid")
    assert 0 < upgrade["amount_paid"] < MONTHLY["professional"] - MONTHLY["developer"]
    assert preview["amount_due_now"] == upgrade["amount_paid"]
    assert preview["amount_due_at_renewal"] == MONTHLY["professional"]
    assert profile_plan("user-ada") == "professional"
    # Professional's pre-authorization is larger than Developer's: a new hold was placed first.
    holds = sorted(i["amount"] for i in lifecycle.sim.all("payment_intent") if i["capture_method"] == "manual")
    assert holds == [50_00, 500_00]

    # Downgrade: scheduled for the period end; the plan in effect stays.
    status, _, view = ada.change("essential")
    assert view["plan"] == "professional"
    assert (view["scheduled_change"]["kind"], view["scheduled_change"]["plan"]) == ("downgrade", "essential")
    assert ada.preview("essential")[2]["amount_due_now"] == 0

    # Undo it; then cancel (to Community at the period end) and undo that too.
    assert ada.undo()[2]["scheduled_change"] is None
    assert stripe_object(lifecycle.sim, lifecycle.subscription("user-ada")["id"], "subscription")["schedule"] is None
    view = ada.change("community")[2]
    assert (view["plan"], view["scheduled_change"]["kind"]) == ("professional", "cancellation")
    assert lifecycle.subscription("user-ada")["cancel_at_period_end"] is True
    view = ada.undo()[2]
    assert view["scheduled_change"] is None
    assert lifecycle.subscription("user-ada")["cancel_at_period_end"] is False
    assert ada.undo()[0] == 404  # nothing left to undo

    # Downgrade again and let the period end: Essential from then on, renewed at its price.
    ada.change("essential")
    lifecycle.advance(25)
    lifecycle.deliver()
    view = ada.subscription()[2]
    assert (view["plan"], view["status"], view["scheduled_change"]) == ("essential", "active", None)
    renewal = max(_paid(lifecycle, subscription["customer"]), key=lambda i: lifecycle.sim.sequence(i["id"]))
    assert (renewal["billing_reason"], renewal["amount_paid"]) == ("subscription_cycle", MONTHLY["essential"])
    assert profile_plan("user-ada") == "essential"

    # Cancel at the period end: Community once the period is over.
    ada.change("community")
    lifecycle.advance(31)
    lifecycle.deliver()
    view = ada.subscription()[2]
    assert (view["plan"], view["status"]) == ("community", "canceled")
    assert profile_plan("user-ada") == "community"
    assert all(status == 200 for _, status, _ in lifecycle.answers)
    # The invoice mirror holds exactly Stripe's invoices, in their current state.
    stripe_invoices = {i["id"]: i["status"] for i in _paid(lifecycle, subscription["customer"])}
    assert {k: v["status"] for k, v in mirrored_invoices("user-ada").items()} == stripe_invoices


def test_a_paid_plan_needs_a_verified_default_card() -> None:
    bob = Billing("user-bob")
    bob.create_account("bob")

    status, _, problem = bob.change("developer")

    assert (status, problem["type"].rsplit(":", 1)[-1]) == (409, "no-verified-card")
    assert mirrored("user-bob") is None


def _decline_from_now_on(life: Lifecycle, sub: str) -> None:
    """The account's card starts declining every charge (as a card can, after it was added)."""
    customer = life.subscription(sub)["customer"]
    for pm in life.sim.all("payment_method"):
        if pm["customer"] == customer:
            life.sim.private(pm["id"])["card"] = CARDS["chargeCustomerFail"]


def test_a_declined_new_hold_changes_nothing(lifecycle: Lifecycle) -> None:
    dee = Billing("user-dee").with_card()
    dee.change("developer")
    _decline_from_now_on(lifecycle, "user-dee")
    invoices_before = len(lifecycle.sim.all("invoice"))

    status, _, problem = dee.change("professional")

    assert status == 402, problem
    assert problem["decline_code"] == "generic_decline"
    assert dee.subscription()[2]["plan"] == "developer"
    assert lifecycle.subscription("user-dee")["items"]["data"][0]["price"]["id"] == PRICE_IDS["developer"]
    assert len(lifecycle.sim.all("invoice")) == invoices_before
    assert profile_plan("user-dee") == "developer"


def test_a_failing_renewal_makes_the_subscription_past_due(lifecycle: Lifecycle) -> None:
    eve = Billing("user-eve").with_card()
    eve.change("developer")
    _decline_from_now_on(lifecycle, "user-eve")
    lifecycle.advance(31)
    lifecycle.deliver()

    view = eve.subscription()[2]
    assert (view["plan"], view["status"]) == ("developer", "past_due")
    latest = eve.invoices()[2]["invoices"][0]
    assert (latest["status"], latest["amount_paid"], latest["billing_reason"]) == ("open", 0, "subscription_cycle")
    assert [t for t, _, _ in lifecycle.answers].count("invoice.payment_failed") == 1


def test_deleting_the_account_cancels_and_later_events_recreate_nothing(lifecycle: Lifecycle) -> None:
    fay = Billing("user-fay").with_card()
    fay.change("professional")
    lifecycle.deliver()
    subscription_id = lifecycle.subscription("user-fay")["id"]

    status, _, body = ProfileClient("user-fay").delete("user_fay")
    assert status in (202, 204), body
    lifecycle.deliver()

    assert stripe_object(lifecycle.sim, subscription_id, "subscription")["status"] == "canceled"
    assert mirrored("user-fay") is None
    assert mirrored_invoices("user-fay") == {}
    assert all(status == 200 for _, status, _ in lifecycle.answers)


def test_an_unknown_plan_is_refused_naming_the_field(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()

    status, _, problem = ada.change("gold")
    preview_status, _, preview_problem = ada.preview("gold")

    assert status == 422
    assert "plan" in str(problem)
    assert preview_status == 422
    assert "plan" in str(preview_problem)
    assert mirrored("user-ada") is None
    assert lifecycle.sim.all("subscription") == []
