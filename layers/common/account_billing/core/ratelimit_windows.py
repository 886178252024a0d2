"""Fixed-window counters: at most `limit` events of one kind per subject (an account, an
address...) per window, counted atomically in DynamoDB (DESIGN §4).

One item per subject and window, `LIMIT#<scope>#<subject>` / `<window start>`, that expires
with DynamoDB's TTL once its window is over. Counting an event is one conditional UpdateItem
(`ADD` with a `< :limit` condition): concurrent requests can never take more than `limit`
slots between them, and nothing is read first. A refused event is not counted.

Windows are aligned to the epoch (an hour's window starts on the hour), so a burst straddling
two windows may take up to twice the limit in a short time; over any window, never more.

An event can also be counted inside a transaction of the caller's (`WindowCounters.slot`): the
count stands or falls with the caller's other writes, at no extra request.

The counters' DynamoDB access is `ratelimit_store`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from account_billing.core.clock import Clock, utc_now
from account_billing.core.keys import Key
from account_billing.core.ratelimit_store import WindowStore, window_key
from account_billing.core.table import Table, TransactItem

# A window's item outlives its window by this much before TTL removes it (TTL deletion is
# lazy anyway: an expired item may linger for a while, and its window is long over).
EXPIRY_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class WindowLimit:
    """At most `limit` events of the kind `scope` (e.g. `avatar-form`) per subject per `window`."""

    scope: str
    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window < timedelta(seconds=1) or not self.scope or "#" in self.scope:
            raise ValueError(f"not a usable limit: {self}")


@dataclass(frozen=True, slots=True)
class Window:
    """The window an event falls in: its counter's key, when it ends, and when the item expires."""

    key: Key
    ends_at: datetime
    expires_at: int  # epoch seconds (the table's TTL attribute)

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends (at least 1): the `Retry-After` of a refusal."""
        return max(1, math.ceil((self.ends_at - now).total_seconds()))


def window_of(limit: WindowLimit, subject: str, now: datetime) -> Window:
    """The window of `limit` that `now` falls in, for `subject` (pure)."""
    length = int(limit.window.total_seconds())
    start = int(now.timestamp()) // length * length
    started = datetime.fromtimestamp(start, tz=UTC)
    ends_at = started + limit.window
    return Window(
        key=window_key(limit.scope, subject, started.isoformat().replace("+00:00", "Z")),
        ends_at=ends_at,
        expires_at=int((ends_at + EXPIRY_GRACE).timestamp()),
    )


class LimitReached(Exception):
    """The window already holds `limit` events; the next window starts in `retry_after` s."""

    def __init__(self, limit: WindowLimit, retry_after: int) -> None:
        super().__init__(f"{limit.scope}: {limit.limit} per {limit.window} reached")
        self.limit = limit
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Slot:
    """One event to count inside a caller's transaction (`action`); if that action's condition
    fails, the window was full, and `refused()` says until when."""

    limit: WindowLimit
    window: Window
    action: TransactItem
    now: datetime

    def refused(self) -> LimitReached:
        return LimitReached(self.limit, self.window.retry_after(self.now))


class WindowCounters:
    """The counters of the service's table."""

    def __init__(self, table: Table, clock: Clock = utc_now) -> None:
        self.store = WindowStore(table)
        self.clock = clock

    def count(self, limit: WindowLimit, subject: str, amount: int = 1) -> int:
        """Count `amount` events of `subject` (one UpdateItem); returns how many the window
        holds now. Raises `LimitReached`, counting nothing, when they would take it past
        `limit.limit`."""
        now = self.clock()
        window = window_of(limit, subject, now)
        counted = self.store.take(window.key, limit.limit, window.expires_at, amount)
        if counted is None:
            raise LimitReached(limit, window.retry_after(now))
        return counted

    def slot(self, limit: WindowLimit, subject: str) -> Slot:
        """The action that counts one event of `subject` in a caller's transaction (nothing is
        sent here)."""
        now = self.clock()
        window = window_of(limit, subject, now)
        return Slot(limit, window, self.store.take_action(window.key, limit.limit, window.expires_at), now)

    def give_back(self, slot: Slot) -> None:
        """Uncount an event a slot counted, when what it was for did not happen."""
        self.store.give_back(slot.window.key)
