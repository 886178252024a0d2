"""Building an export (the export function): claim it, write its sections into a ZIP streamed to
S3 in parts, checkpoint after each part, and finish it; then email the link.

Resumable: after each part the checkpoint (the upload, its parts, the archive's state, the
section and position reached, what was found) is saved beside the archive and the export's
record shows the progress. A function running out of time stops at its next part, gives its
lease up and queues the export again; one that dies is redelivered by SQS once its lease has run
out. Either way the next run goes on from the last checkpoint and writes the same archive.

Erased with the account: every write to the record is conditioned on the account being active
and the record being there, so once the account's deletion begins nothing is written back; what
this run put in S3 is deleted when it finds that out (and the deletion deletes what it finds).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

from account_billing.accounts.records import Account
from account_billing.accounts.store import AccountStore
from account_billing.core.clock import Clock, parse_timestamp, timestamp, utc_now
from account_billing.core.observability import logger, metrics
from account_billing.emails.messages import Message
from account_billing.exports.archive import ArchiveState, ArchiveWriter
from account_billing.exports.errors import ExportGone, LeaseLost
from account_billing.exports.messages import export_ready
from account_billing.exports.queue import ExportQueue
from account_billing.exports.records import Export, ExportStatus
from account_billing.exports.sections import DONE, SECTIONS, Progress, Sources, manifest
from account_billing.exports.sections import Export as Building
from account_billing.exports.settings import ExportSettings
from account_billing.exports.storage import ExportStorage, archive_key
from account_billing.exports.store import Claim, ExportStore

# A run holds the export this long (the function's timeout and a minute): SQS redelivers a
# message only after its visibility timeout, which is longer.
LEASE = timedelta(minutes=16)
# Below this much time left, a run stops at its next part and queues the rest.
CONTINUE_BELOW_MS = 120_000
# Runs an export may take (continuations included) before it is given up as failed.
MAX_ATTEMPTS = 50

Outcome = Literal["ready", "continued", "busy", "finished", "gone", "failed"]


class ExportWorker:
    def __init__(
        self,
        store: ExportStore,
        *,
        storage: ExportStorage,
        accounts: AccountStore,
        sources: Sources,
        queue: Callable[[], ExportQueue],
        send: Callable[[Message], None],
        settings: ExportSettings,
        web_app_url: str,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.storage = storage
        self.accounts = accounts
        self.sources = sources
        self.queue = queue
        self.send = send
        self.settings = settings
        self.web_app_url = web_app_url
        self.clock = clock

    def _now(self) -> str:
        return timestamp(self.clock())

    def handle(self, sub: str, export_id: str, remaining_ms: Callable[[], int]) -> Outcome:  # noqa: PLR0911
        export = self.store.get(sub, export_id, consistent=True)
        if export is None:  # erased with its account (or never made): nothing of it may stay
            self.storage.erase_export(sub, export_id)
            return "gone"
        if export.finished:
            self._notify(export)  # a retry of a run whose email failed
            return "finished"
        if export.attempts >= MAX_ATTEMPTS:
            self.storage.erase_export(sub, export_id)
            self.store.fail(export, "The export could not be completed.", self._now())
            metrics.add_metric(name="ExportFailed", unit="Count", value=1)
            return "failed"
        lease = timestamp(self.clock() + LEASE)
        claim = self.store.claim(export, self._now(), lease)
        if claim == Claim.GONE:
            self._discard(export)
            return "gone"
        if claim == Claim.BUSY:
            return "busy"
        if claim == Claim.FINISHED:
            return "finished"
        account = self.accounts.get(sub, consistent=True)
        try:
            if account is None or not account.active:
                raise ExportGone(export_id)
            return self._build(export, account, lease, remaining_ms)
        except ExportGone:
            self._discard(export)
            return "gone"
        except LeaseLost:
            return "busy"

    # ------------------------------------------------------------------ building
    def _build(self, export: Export, account: Account, lease: str, remaining_ms: Callable[[], int]) -> Outcome:
        sub, export_id = export.sub, export.export_id
        key = archive_key(sub, export_id)
        checkpoint = self.storage.load_checkpoint(sub, export_id)
        if checkpoint is None:
            checkpoint = {
                "upload_id": self.storage.begin(key),
                "parts": [],
                "archive": ArchiveState().to_json(),
                "section": 0,
                "position": None,
                "progress": Progress().to_json(),
                "uploaded": False,
            }
            self.storage.save_checkpoint(sub, export_id, checkpoint)
        upload_id: str = checkpoint["upload_id"]
        parts: list[tuple[int, str]] = [(int(n), str(etag)) for n, etag in checkpoint["parts"]]
        building = Building(
            sub,
            export_id,
            parse_timestamp(export.requested_at),
            self.sources,
            Progress.from_json(checkpoint["progress"]),
        )
        cursor: dict[str, Any] = {"section": checkpoint["section"], "position": checkpoint["position"]}

        def emit(part: bytes, state: ArchiveState) -> None:
            number = len(parts) + 1
            parts.append((number, self.storage.upload_part(key, upload_id, number, part)))
            self.storage.save_checkpoint(
                sub,
                export_id,
                {
                    "upload_id": upload_id,
                    "parts": parts,
                    "archive": state.to_json(),
                    **cursor,
                    "progress": building.progress.to_json(),
                },
            )
            index = min(int(cursor["section"]), len(SECTIONS) - 1)
            if not self.store.progress(
                export,
                lease,
                section=SECTIONS[index][0],
                done=[name for name, _ in SECTIONS[: cursor["section"]]],
                items=sum(building.progress.counts.values()),
                parts=number,
                now=self._now(),
            ):
                raise self._lost(export)

        writer = ArchiveWriter(
            emit, self.settings.export_part_size, building.requested_at, ArchiveState.from_json(checkpoint["archive"])
        )
        if not checkpoint.get("uploaded"):
            for index in range(int(checkpoint["section"]), len(SECTIONS)):
                _, section = SECTIONS[index]
                position = checkpoint["position"] if index == checkpoint["section"] else None
                if position == DONE:
                    continue
                for step in section(building, account, position):
                    step.write(writer)
                    cursor.update(section=index, position=step.position)
                    if writer.boundary() and remaining_ms() < CONTINUE_BELOW_MS:
                        return self._continue_later(export, lease)
            cursor.update(section=len(SECTIONS), position=None, uploaded=True)
            writer.add("manifest.json", manifest(building))
            writer.finish()
        self._complete(key, upload_id, parts)
        if not self.store.finish(
            export,
            lease,
            object_key=key,
            size=writer.state.offset,
            missing=len(building.progress.missing_statements),
            done=[name for name, _ in SECTIONS],
            now=self._now(),
        ):
            raise self._lost(export)
        self.storage.drop_checkpoint(sub, export_id)
        metrics.add_metric(name="ExportReady", unit="Count", value=1)
        ready = self.store.get(sub, export_id, consistent=True)
        if ready is not None:
            self._notify(ready)
        return "ready"

    def _complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        try:
            self.storage.complete(key, upload_id, parts)
        except ExportGone:
            if not self.storage.exists(key):  # else: completed by a run that stopped right after
                raise

    def _continue_later(self, export: Export, lease: str) -> Outcome:
        if not self.store.let_go(export, lease, self._now()):
            raise self._lost(export)
        self.queue().send(export.sub, export.export_id)
        logger.info("Export continues in another run", extra={"export": export.export_id})
        return "continued"

    def _lost(self, export: Export) -> Exception:
        """Why a conditioned write did not apply: the account or the export went, or another
        run took the export over."""
        account = self.accounts.get(export.sub, consistent=True)
        current = self.store.get(export.sub, export.export_id, consistent=True)
        if account is None or not account.active or current is None:
            return ExportGone(export.export_id)
        return LeaseLost(export.export_id)

    def _discard(self, export: Export) -> None:
        """The account is going (or the export is gone): delete what this export put in S3 and
        its record, whatever the deletion has not removed yet. (An active account's export whose
        upload went, aborted after a day by the bucket's lifecycle, is marked failed instead.)"""
        self.storage.erase_export(export.sub, export.export_id)
        account = self.accounts.get(export.sub, consistent=True)
        if account is not None and account.active and self.store.get(export.sub, export.export_id, consistent=True):
            self.store.fail(export, "The export could not be completed; start a new one.", self._now())
            metrics.add_metric(name="ExportFailed", unit="Count", value=1)
            return
        self.store.forget(export)
        logger.info("Export discarded: its account is gone or going", extra={"export": export.export_id})

    # ------------------------------------------------------------------ telling the user
    def _notify(self, export: Export) -> None:
        if export.status != ExportStatus.READY or export.notified_at or export.ready_at is None:
            return
        account = self.accounts.get(export.sub)
        primary = account.primary_email if account is not None and account.active else None
        if primary is None or not primary.verified:
            return
        if not self.store.mark_notified(export, self._now()):
            return
        until = parse_timestamp(export.ready_at) + timedelta(days=self.settings.export_retention_days)
        try:
            self.send(export_ready(primary.address, self.web_app_url, export.export_id, timestamp(until)))
        except Exception:
            self.store.unmark_notified(export)
            raise
