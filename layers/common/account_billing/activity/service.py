"""The activity log as the features use it: `record` a change once it is made (or `entry` it into
the transaction that makes it), and the caller's log, newest first."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from account_billing.activity.records import ACTIVITY_PREFIX, ActivityEntry, ActivityKind
from account_billing.activity.store import ActivityStore
from account_billing.core.clock import Clock, epoch_seconds, parse_timestamp, timestamp, utc_now
from account_billing.core.identity import Caller
from account_billing.core.origin import Actor, Origin, current_origin
from account_billing.core.pagination import decode_cursor, encode_cursor
from account_billing.core.table import Table, TransactItem
from account_billing.notices.messages import NOTICE_KINDS
from account_billing.notices.publisher import publish_notice

if TYPE_CHECKING:
    from account_billing.activity.models import ActivityPage

DEFAULT_RETENTION_DAYS = 400


class PendingEntry(dict[str, Any]):
    """A transaction action (a TransactItem) that writes `entry`; `notify`: who to tell."""

    def __init__(self, action: TransactItem, *, entry: ActivityEntry, notify: tuple[str, ...]) -> None:
        super().__init__(action)
        self.entry = entry
        self.notify = notify


def _settings_retention() -> int:
    from account_billing.core.settings import get_settings  # noqa: PLC0415 (read when first needed)

    return get_settings().activity_retention_days


class ActivityLog:
    """`retention_days` (default: the ACTIVITY_RETENTION_DAYS setting) is read when first needed."""

    def __init__(
        self,
        store: ActivityStore,
        clock: Clock = utc_now,
        retention_days: Callable[[], int] = _settings_retention,
    ) -> None:
        self.store = store
        self.clock = clock
        self.retention_days = retention_days

    @classmethod
    def of(cls, table: Table, clock: Clock = utc_now) -> ActivityLog:
        return cls(ActivityStore(table), clock)

    # ------------------------------------------------------------------ writing
    def _origin(self, who: Caller | str, origin: Origin | None = None) -> Origin:
        """Who made the change: `origin` if given, else the caller's request, else the webhook
        event or scheduled run being handled (`core.origin.acting`), else the service itself."""
        given = origin or (who.origin if isinstance(who, Caller) else None)
        return (
            given
            or current_origin()
            or Origin(actor=Actor.SYSTEM, operation=f"system:{uuid.uuid4().hex}", at=timestamp(self.clock()))
        )

    def _entry(
        self, who: Caller | str, kind: ActivityKind, subject: str, details: dict[str, Any], origin: Origin | None = None
    ) -> ActivityEntry:
        origin = self._origin(who, origin)
        expires = parse_timestamp(origin.at) + timedelta(days=self.retention_days())
        sub = who.sub if isinstance(who, Caller) else who
        return ActivityEntry.of(sub, kind, origin, expires_at=epoch_seconds(expires), subject=subject, details=details)

    def entry(
        self, who: Caller | str, kind: ActivityKind, subject: str = "", *, notify: Sequence[str] = (), **details: Any
    ) -> PendingEntry:
        """The entry of a change, as an action of the transaction that makes the change; once
        that is written, `committed(entry)` sends its security notice (to `notify`, or to the
        primary address)."""
        entry = self._entry(who, kind, subject, details)
        return PendingEntry(self.store.put_action(entry), entry=entry, notify=tuple(notify))

    def committed(self, pending: PendingEntry) -> None:
        """The change of `pending` is made: its security notice, if it has one, goes out."""
        if pending.entry.kind in NOTICE_KINDS:
            publish_notice(pending.entry, pending.notify)

    def record(
        self,
        who: Caller | str,
        kind: ActivityKind,
        subject: str = "",
        *,
        origin: Origin | None = None,
        notify: Sequence[str] = (),
        **details: Any,
    ) -> bool:
        """Append the entry of a change just made (and send its security notice, if it has one);
        False, and nothing sent, if this operation's entry is already there (a duplicate
        delivery of a webhook event, a retried schedule)."""
        entry = self._entry(who, kind, subject, details, origin)
        appended = self.store.append(entry)
        if appended and kind in NOTICE_KINDS:
            publish_notice(entry, notify)
        return appended

    # ------------------------------------------------------------------ reading
    def page(self, caller: Caller, limit: int, cursor: str | None, kinds: frozenset[ActivityKind]) -> ActivityPage:
        # The page's models (pydantic) only for the function that shows the log: every function
        # that writes entries would load them for nothing.
        from account_billing.activity.models import ActivityPage, activity_view  # noqa: PLC0415

        after = decode_cursor(cursor, ACTIVITY_PREFIX)
        entries, last = self.store.page(caller.sub, limit, after, kinds)
        return ActivityPage(entries=[activity_view(e) for e in entries], next_cursor=encode_cursor(last))
