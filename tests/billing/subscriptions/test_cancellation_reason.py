"""Leaving a paid plan with a reason: Stripe's `cancellation_details` feedback and comment,
recorded on the Stripe subscription; a reason goes with moving to Community only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from functions.subscriptions import app as subscriptions_app
from tests.support.events import call, http_event
from tests.support.lifecycle import Billing, Lifecycle, Result

pytestmark = pytest.mark.usefixtures("lifecycle")


def change(account: Billing, body: dict[str, Any]) -> Result:
    event = http_event(
        "subscriptions/change_plan", sub=account.sub, body=body, headers={"idempotency-key": str(uuid.uuid4())}
    )
    return call(subscriptions_app.lambda_handler, event)


def test_moving_to_community_records_the_reason_on_the_stripe_subscription(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    assert ada.change("developer")[0] == 200
    reason = {"feedback": "too_expensive", "comment": "We only need it a few months a year."}

    status, _, view = change(ada, {"plan": "community", "cancellation": reason})

    assert status == 200, view
    assert view["scheduled_change"]["kind"] == "cancellation"
    stripe_sub = lifecycle.subscription("user-ada")
    assert stripe_sub["cancel_at_period_end"] is True
    assert stripe_sub["cancellation_details"] == {"reason": "cancellation_requested", **reason}


def test_moving_to_community_without_a_reason_records_none(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    assert ada.change("developer")[0] == 200

    assert change(ada, {"plan": "community"})[0] == 200

    details = lifecycle.subscription("user-ada")["cancellation_details"]
    assert (details["feedback"], details["comment"]) == (None, None)


@pytest.mark.parametrize(
    "body",
    [
        {"plan": "essential", "cancellation": {"feedback": "too_expensive"}},
        {"plan": "community", "cancellation": {"feedback": "because"}},
        {"plan": "community", "cancellation": {"comment": "x" * 501}},
        {"plan": "community", "cancellation": {"feedback": "other", "mood": "sad"}},
    ],
)
def test_a_bad_reason_is_422_and_changes_nothing(lifecycle: Lifecycle, body: dict[str, Any]) -> None:
    ada = Billing("user-ada").with_card()
    assert ada.change("developer")[0] == 200

    assert change(ada, body)[0] == 422

    stripe_sub = lifecycle.subscription("user-ada")
    assert stripe_sub["cancel_at_period_end"] is False
    assert stripe_sub["items"]["data"][0]["price"]["id"] == "price_developer_monthly"
