"""The exports' collaborators as the functions build them, once per container."""

from __future__ import annotations

from account_billing.activity.service import ActivityLog
from account_billing.avatars.storage import s3_client
from account_billing.core.ratelimit_windows import WindowCounters
from account_billing.core.table import Table
from account_billing.core.wiring import per_container
from account_billing.exports.queue import ExportQueue
from account_billing.exports.service import ExportService
from account_billing.exports.settings import export_settings
from account_billing.exports.storage import ExportStorage
from account_billing.exports.store import ExportStore


@per_container
def export_storage() -> ExportStorage:
    return ExportStorage(s3_client(), export_settings().bucket())


@per_container
def export_queue() -> ExportQueue:
    return ExportQueue.from_settings()


def export_service(table: Table) -> ExportService:
    return ExportService(
        ExportStore(table),
        counters=WindowCounters(table),
        storage=export_storage,
        queue=export_queue,
        activity=ActivityLog.of(table),
        settings=export_settings(),
    )
