"""The mirror's ordering rules, directly: an older read never overwrites a newer one, an older
subscription never replaces a newer one, and nothing is written for an inactive account."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from account_billing.billing.mirror import Mirror
from tests.billing.helpers import new_table
from tests.billing_lifecycle.helpers import PRICE_IDS, Billing, Lifecycle, mirrored, profile_plan

pytestmark = pytest.mark.usefixtures("lifecycle")


def _stripe_sub(lifecycle: Lifecycle, sub: str) -> dict[str, Any]:
    return copy.deepcopy(lifecycle.subscription(sub))


def test_an_older_read_never_overwrites_a_newer_one(lifecycle: Lifecycle) -> None:
    Billing("user-ada").with_card().change("developer")
    mirror = Mirror(new_table(), PRICE_IDS)
    current = _stripe_sub(lifecycle, "user-ada")
    newer = copy.deepcopy(current)
    newer["cancel_at_period_end"] = True

    assert mirror.save_subscription("user-ada", newer, None, synced_at=10**17) is not None
    assert mirror.save_subscription("user-ada", current, None, synced_at=10**17 - 1) is None

    assert mirrored("user-ada")["cancel_at_period_end"] is True


def test_an_older_subscription_never_replaces_a_newer_one(lifecycle: Lifecycle) -> None:
    Billing("user-ada").with_card().change("developer")
    mirror = Mirror(new_table(), PRICE_IDS)
    old = _stripe_sub(lifecycle, "user-ada")
    old.update(id="sub_older", created=old["created"] - 86400, status="canceled")

    assert mirror.save_subscription("user-ada", old, None, synced_at=10**17) is None

    assert mirrored("user-ada")["status"] == "active"
    assert profile_plan("user-ada") == "developer"


def test_nothing_is_written_for_another_customer_or_no_account(lifecycle: Lifecycle) -> None:
    Billing("user-ada").with_card().change("developer")
    mirror = Mirror(new_table(), PRICE_IDS)
    foreign = _stripe_sub(lifecycle, "user-ada")
    foreign["customer"] = "cus_someoneelse"

    assert mirror.save_subscription("user-ada", foreign, None, synced_at=10**17) is None
    assert mirror.save_subscription("user-nobody", foreign, None, synced_at=10**17) is None
    assert mirrored("user-nobody") is None
    assert mirrored("user-ada")["customer_id"] == lifecycle.subscription("user-ada")["customer"]
