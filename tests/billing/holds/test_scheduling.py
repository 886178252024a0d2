"""Hold ids and their one-time release schedules (pure)."""

from __future__ import annotations

import hashlib
from typing import Any, cast

import pytest

from account_billing.billing.holds.records import hold_id_for_card, hold_id_for_plan_change
from account_billing.billing.holds.scheduling import ReleaseScheduler, schedule_name
from account_billing.billing.settings import BillingSettings


def test_hold_ids_derive_from_the_caller_and_the_key() -> None:
    assert hold_id_for_card("a", "k1") == hold_id_for_card("a", "k1")
    assert len({hold_id_for_card("a", "k1"), hold_id_for_card("b", "k1"), hold_id_for_card("a", "k2")}) == 3
    assert len(schedule_name(hold_id_for_card("a", "k1"))) <= 64


def test_hold_ids_are_what_requests_already_in_flight_recorded() -> None:
    """A retry finds the hold its first attempt recorded: the ids never change shape."""
    card = hashlib.sha256(b"user-ada\x00key-1").hexdigest()[:32]
    change_key = hashlib.sha256(b"user-ada\x00key-1").hexdigest()[:40]
    plan = hashlib.sha256(f"user-ada\x00plan\x00{change_key}".encode()).hexdigest()[:32]

    assert hold_id_for_card("user-ada", "key-1") == f"hold_{card}"
    assert hold_id_for_plan_change("user-ada", change_key) == f"hold_{plan}"
    assert hold_id_for_card("user-ada", "key-1") != hold_id_for_plan_change("user-ada", change_key)


def test_the_scheduler_needs_its_whole_configuration() -> None:
    with pytest.raises(RuntimeError, match="RELEASE_QUEUE_ARN"):
        ReleaseScheduler.from_settings(cast(Any, object()), BillingSettings(release_schedule_group="g"))
