"""The windowed counters the avatar forms (and later emails and cards) are limited with: the
window an event falls in (pure), and the one conditional UpdateItem that counts it (moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from account_billing.core.ratelimit_windows import (
    EXPIRY_GRACE,
    LimitReached,
    WindowCounters,
    WindowLimit,
    window_of,
)
from account_billing.core.settings import get_settings
from account_billing.core.table import Table, TransactionCancelled, marshal
from account_billing.core.wiring import dynamodb_client
from tests.support import table

HOURLY = WindowLimit(scope="avatar-form", limit=2, window=timedelta(hours=1))
NOW = datetime(2026, 11, 28, 14, 25, 30, tzinfo=UTC)


def test_an_event_falls_in_the_window_that_starts_on_the_hour() -> None:
    window = window_of(HOURLY, "ada", NOW)
    assert window.key == {"PK": "LIMIT#avatar-form#ada", "SK": "2026-11-28T14:00:00Z"}
    assert window.ends_at == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert window.expires_at == int((window.ends_at + EXPIRY_GRACE).timestamp())
    assert window.retry_after(NOW) == 34 * 60 + 30


def test_the_last_moment_of_a_window_and_the_first_of_the_next() -> None:
    last = datetime(2026, 11, 28, 14, 59, 59, 999_000, tzinfo=UTC)
    assert window_of(HOURLY, "ada", last).key["SK"] == "2026-11-28T14:00:00Z"
    assert window_of(HOURLY, "ada", last).retry_after(last) == 1  # never 0
    assert window_of(HOURLY, "ada", last + timedelta(milliseconds=1)).key["SK"] == "2026-11-28T15:00:00Z"


def test_windows_of_other_lengths_scopes_and_subjects_are_other_counters() -> None:
    daily = WindowLimit(scope="email-send", limit=5, window=timedelta(days=1))
    assert window_of(daily, "ada", NOW).key == {"PK": "LIMIT#email-send#ada", "SK": "2026-11-28T00:00:00Z"}
    assert window_of(HOURLY, "bob", NOW).key["PK"] == "LIMIT#avatar-form#bob"
    assert window_of(HOURLY, "ada", NOW.astimezone(timezone(timedelta(hours=5)))) == window_of(HOURLY, "ada", NOW)


@pytest.mark.parametrize(
    ("scope", "limit", "window"),
    [("", 1, timedelta(hours=1)), ("a#b", 1, timedelta(hours=1)), ("x", 0, timedelta(hours=1)), ("x", 1, timedelta())],
)
def test_a_limit_that_could_not_work_is_refused(scope: str, limit: int, window: timedelta) -> None:
    with pytest.raises(ValueError, match="not a usable limit"):
        WindowLimit(scope=scope, limit=limit, window=window)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.usefixtures("aws")
def test_the_counter_counts_up_to_the_limit_refuses_then_allows_the_next_window() -> None:
    clock = Clock(NOW)
    counters = WindowCounters(Table(dynamodb_client(), get_settings().table_name), clock)

    assert [counters.count(HOURLY, "ada"), counters.count(HOURLY, "ada")] == [1, 2]
    with pytest.raises(LimitReached) as refused:
        counters.count(HOURLY, "ada")
    assert refused.value.retry_after == 34 * 60 + 30
    assert refused.value.limit == HOURLY

    # the refusal counted nothing, and the item expires after its window
    stored = table.item("LIMIT#avatar-form#ada", "2026-11-28T14:00:00Z")
    assert stored is not None
    assert (stored["count"], stored["expires_at"]) == (2, window_of(HOURLY, "ada", NOW).expires_at)

    clock.now = NOW + timedelta(minutes=35)  # 15:00:30
    assert counters.count(HOURLY, "ada") == 1
    assert counters.count(HOURLY, "bob") == 1


@pytest.mark.usefixtures("aws")
def test_a_slot_counts_inside_the_callers_transaction_and_a_full_window_cancels_it() -> None:
    table_ = Table(dynamodb_client(), get_settings().table_name)
    counters = WindowCounters(table_, Clock(NOW))
    note = {"Put": {"Item": marshal({"PK": "NOTE", "SK": "1", "n": 1})}}

    for _ in range(HOURLY.limit):
        table_.transact([note, counters.slot(HOURLY, "ada").action])
    full = counters.slot(HOURLY, "ada")
    with pytest.raises(TransactionCancelled) as cancelled:
        table_.transact([{"Put": {"Item": marshal({"PK": "NOTE", "SK": "2"})}}, full.action])

    assert cancelled.value.failed(1)
    assert table.item("NOTE", "2") is None  # nothing of the caller's transaction was written
    assert table.existing("LIMIT#avatar-form#ada", "2026-11-28T14:00:00Z")["count"] == HOURLY.limit
    assert full.refused().retry_after == 34 * 60 + 30


@pytest.mark.usefixtures("aws")
def test_a_slot_given_back_frees_its_place_and_never_counts_below_zero() -> None:
    counters = WindowCounters(Table(dynamodb_client(), get_settings().table_name), Clock(NOW))
    counters.count(HOURLY, "ada")
    counters.count(HOURLY, "ada")

    counters.give_back(counters.slot(HOURLY, "ada"))
    assert counters.count(HOURLY, "ada") == 2
    for _ in range(3):
        counters.give_back(counters.slot(HOURLY, "ada"))
    assert table.existing("LIMIT#avatar-form#ada", "2026-11-28T14:00:00Z")["count"] == 0
