"""Starting an export and showing one (the routes).

Starting is one transaction (the record, the account's lease on exporting, the day's count and
the activity log's entry, only while the account is active), then a message to the export
queue. The export's id derives from the request's Idempotency-Key, so a retry finds the export
its first attempt started (and queues it again, in case that message was lost: a build runs
once however often it is queued)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from account_billing.accounts.errors import AccountNotFound
from account_billing.activity.records import ActivityKind
from account_billing.activity.service import ActivityLog
from account_billing.core.clock import Clock, epoch_seconds, parse_timestamp, timestamp, utc_now
from account_billing.core.identity import Caller
from account_billing.core.observability import metrics
from account_billing.core.ratelimit_windows import WindowCounters, WindowLimit
from account_billing.exports.errors import ExportNotFound, ExportRunning, ExportsLimitReached
from account_billing.exports.models import ExportProgress, ExportView
from account_billing.exports.queue import ExportQueue
from account_billing.exports.records import Export, ExportStatus, export_id_for
from account_billing.exports.settings import ExportSettings
from account_billing.exports.storage import ExportStorage
from account_billing.exports.store import ExportStore, Started

# The account's lease on exporting lasts at most this long (an export that died holds it no longer).
RUNNING_AT_MOST = timedelta(hours=6)
# The record outlives its archive by a day (then DynamoDB's TTL removes it).
RECORD_EXTRA = timedelta(days=1)


class ExportService:
    def __init__(
        self,
        store: ExportStore,
        *,
        counters: WindowCounters,
        storage: Callable[[], ExportStorage],
        queue: Callable[[], ExportQueue],
        activity: ActivityLog,
        settings: ExportSettings,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.counters = counters
        self.storage = storage
        self.queue = queue
        self.activity = activity
        self.settings = settings
        self.clock = clock

    def start(self, caller: Caller, request_key: str) -> tuple[ExportView, bool]:
        """Start an export (True), or find the one this request started before (False)."""
        now = self.clock()
        retention = timedelta(days=self.settings.export_retention_days)
        export = Export(
            sub=caller.sub,
            export_id=export_id_for(caller.sub, request_key),
            status=ExportStatus.QUEUED,
            requested_at=timestamp(now),
            updated_at=timestamp(now),
            expires_at=epoch_seconds(now + RUNNING_AT_MOST + retention + RECORD_EXTRA),
        )
        limit = WindowLimit("exports", self.settings.exports_per_day, timedelta(days=1))
        slot = self.counters.slot(limit, caller.sub)
        entry = self.activity.entry(caller, ActivityKind.EXPORT_REQUESTED, export.export_id, export=export.export_id)
        started = self.store.start(export, timestamp(now + RUNNING_AT_MOST), timestamp(now), slot.action, [entry])
        if started == Started.EXISTS:
            existing = self.store.get(caller.sub, export.export_id, consistent=True)
            if existing is None:  # erased meanwhile
                raise AccountNotFound()
            if not existing.finished:
                self.queue().send(caller.sub, existing.export_id)
            return self._view(existing), False
        if started == Started.NO_ACCOUNT:
            raise AccountNotFound()
        if started == Started.RUNNING:
            raise ExportRunning("An export of the account is already running; wait for it to finish.")
        if started == Started.LIMITED:
            raise ExportsLimitReached(
                f"At most {limit.limit} exports a day; try again later.", slot.refused().retry_after
            )
        self.activity.committed(entry)
        self.queue().send(caller.sub, export.export_id)
        metrics.add_metric(name="ExportRequested", unit="Count", value=1)
        return self._view(export), True

    def view(self, caller: Caller, export_id: str) -> ExportView:
        export = self.store.get(caller.sub, export_id)
        if export is None:
            raise ExportNotFound("No such export.")
        return self._view(export)

    def _view(self, export: Export) -> ExportView:
        now = self.clock()
        status: str = export.status.value
        ready_at = parse_timestamp(export.ready_at) if export.ready_at else None
        until = ready_at + timedelta(days=self.settings.export_retention_days) if ready_at else None
        url = url_expires = None
        if export.status == ExportStatus.READY and until is not None and now >= until:
            status = "expired"
        elif export.status == ExportStatus.READY and export.object_key:
            seconds = self.settings.export_link_minutes * 60
            url = self.storage().download_url(export.object_key, f"account-data-{export.export_id}.zip", seconds)
            url_expires = now + timedelta(seconds=seconds)
        return ExportView(
            id=export.export_id,
            status=status,
            requested_at=parse_timestamp(export.requested_at),
            progress=ExportProgress(
                sections_done=list(export.sections_done), section=export.section, items=export.items
            ),
            ready_at=ready_at,
            available_until=until,
            size_bytes=export.size,
            statements_missing=export.statements_missing,
            download_url=url,
            download_url_expires_at=url_expires,
            failure=export.failure,
        )
