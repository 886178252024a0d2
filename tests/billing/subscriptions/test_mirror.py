"""The ordering rules of the subscription's copy, directly: an older read never overwrites a newer
one, an older subscription never replaces a newer one, and nothing is written for an inactive
account."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from account_billing.billing.stripe.results import StripeSubscription
from account_billing.billing.subscriptions.records import Subscription
from account_billing.billing.subscriptions.store import SubscriptionStore
from tests.support.billing import new_table
from tests.support.lifecycle import PRICE_IDS, Billing, Lifecycle, mirror_of, mirrored, profile_plan

pytestmark = pytest.mark.usefixtures("lifecycle")


def _stripe_sub(lifecycle: Lifecycle, sub: str) -> dict[str, Any]:
    return copy.deepcopy(lifecycle.subscription(sub))


def _save(sub: str, stripe_sub: dict[str, Any], synced_at: int) -> bool:
    """Store `stripe_sub` (Stripe's object) as the copy of `sub`'s subscription, read at `synced_at`."""
    record = Subscription.from_stripe(sub, StripeSubscription.from_dict(stripe_sub), None, PRICE_IDS, synced_at)
    return SubscriptionStore(new_table(), PRICE_IDS).save(record)


def test_an_older_read_never_overwrites_a_newer_one(lifecycle: Lifecycle) -> None:
    Billing("user-ada").with_card().change("developer")
    current = _stripe_sub(lifecycle, "user-ada")
    newer = copy.deepcopy(current)
    newer["cancel_at_period_end"] = True

    assert _save("user-ada", newer, 10**17)
    assert not _save("user-ada", current, 10**17 - 1)

    assert mirror_of("user-ada")["cancel_at_period_end"] is True


def test_an_older_subscription_never_replaces_a_newer_one(lifecycle: Lifecycle) -> None:
    Billing("user-ada").with_card().change("developer")
    old = _stripe_sub(lifecycle, "user-ada")
    old.update(id="sub_older", created=old["created"] - 86400, status="canceled")

    assert not _save("user-ada", old, 10**17)

    assert mirror_of("user-ada")["status"] == "active"
    assert profile_plan("user-ada") == "developer"


def test_nothing_is_written_for_another_customer_or_no_account(lifecycle: Lifecycle) -> None:
    Billing("user-ada").with_card().change("developer")
    foreign = _stripe_sub(lifecycle, "user-ada")
    foreign["customer"] = "cus_someoneelse"

    assert not _save("user-ada", foreign, 10**17)
    assert not _save("user-nobody", foreign, 10**17)
    assert mirrored("user-nobody") is None
    assert mirror_of("user-ada")["customer_id"] == lifecycle.subscription("user-ada")["customer"]
