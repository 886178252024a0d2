"""DynamoDB access for exports: starting one (with the account's lease on exporting and its
daily count, in one transaction), the export function's claim, checkpoints and finish (each
only while the account is active and the export is still there, so nothing is written back
after the account's erasure), and the email's once-only mark."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from account_billing.accounts.store import account_is_active
from account_billing.core.table import (
    ConditionFailed,
    Table,
    TransactionCancelled,
    TransactItem,
    marshal,
    values,
)
from account_billing.exports.records import UNFINISHED, Export, ExportStatus, export_key, running_key

# Attributes whose names are DynamoDB reserved words, as the updates name them.
RESERVED = ("#status", "#section", "#items", "#size")


class Started(StrEnum):
    STARTED = "started"
    EXISTS = "exists"  # this request's export was started before (a retry)
    NO_ACCOUNT = "no-account"
    RUNNING = "running"  # another export of the account is running
    LIMITED = "limited"  # the day's exports are used up


class Claim(StrEnum):
    CLAIMED = "claimed"
    BUSY = "busy"  # another export function works on it (its lease has not run out)
    FINISHED = "finished"
    GONE = "gone"  # the export or the account is gone, or the account is being deleted


class ExportStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, sub: str, export_id: str, *, consistent: bool = False) -> Export | None:
        item = self.table.get(export_key(sub, export_id), consistent=consistent)
        return Export.from_item(item) if item else None

    def running(self, sub: str) -> str | None:
        """The id of the export holding the account's lease, if any."""
        item = self.table.get(running_key(sub), consistent=True)
        return str(item["export_id"]) if item else None

    def start(
        self, export: Export, lease_until: str, now: str, counting: TransactItem, also: Sequence[TransactItem] = ()
    ) -> Started:
        """Record a new export of an active account, take the account's lease on exporting
        (unless another export holds it) and count it in the day's window (`counting`), all or
        nothing; `also`: unconditional actions written with it (the activity log's entry)."""
        lease = {
            **running_key(export.sub),
            "entity": "export-lease",
            "export_id": export.export_id,
            "until": lease_until,
            "expires_at": export.expires_at,
        }
        try:
            self.table.transact(
                [
                    account_is_active(export.sub),
                    {"Put": {"Item": marshal(export.to_item()), "ConditionExpression": "attribute_not_exists(PK)"}},
                    {
                        "Put": {
                            "Item": marshal(lease),
                            "ConditionExpression": "attribute_not_exists(PK) OR #until <= :now",
                            "ExpressionAttributeNames": {"#until": "until"},
                            "ExpressionAttributeValues": values(now=now),
                        }
                    },
                    counting,
                    *also,
                ]
            )
        except TransactionCancelled as exc:
            for index, outcome in (
                (1, Started.EXISTS),
                (0, Started.NO_ACCOUNT),
                (2, Started.RUNNING),
                (3, Started.LIMITED),
            ):
                if exc.failed(index):
                    return outcome
            raise
        return Started.STARTED

    def claim(self, export: Export, now: str, lease_until: str) -> Claim:
        """Take the export for building (queued, or running with a lease that ran out) while the
        account is active."""
        try:
            self.table.transact(
                [
                    {
                        "Update": {
                            "Key": marshal(export.key),
                            "UpdateExpression": "SET #status = :running, lease_until = :lease, updated_at = :now "
                            "ADD attempts :one",
                            "ConditionExpression": "#status IN (:queued, :running) AND "
                            "(attribute_not_exists(lease_until) OR lease_until <= :now)",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": values(
                                running=ExportStatus.RUNNING,
                                queued=ExportStatus.QUEUED,
                                lease=lease_until,
                                now=now,
                                one=1,
                            ),
                        }
                    },
                    account_is_active(export.sub),
                ]
            )
        except TransactionCancelled as exc:
            if exc.failed(1):
                return Claim.GONE
            if not exc.failed(0):
                raise
            current = self.get(export.sub, export.export_id, consistent=True)
            if current is None:
                return Claim.GONE
            return Claim.BUSY if current.status in UNFINISHED else Claim.FINISHED
        return Claim.CLAIMED

    def _while_held(self, export: Export, lease: str, update: str, **named: Any) -> bool:
        """Update the export while this function holds its lease and the account is active;
        False (nothing written) otherwise."""
        try:
            self.table.transact(
                [
                    {
                        "Update": {
                            "Key": marshal(export.key),
                            "UpdateExpression": update,
                            "ConditionExpression": "attribute_exists(PK) AND lease_until = :lease",
                            "ExpressionAttributeNames": {n: n[1:] for n in RESERVED if n in update},
                            "ExpressionAttributeValues": values(lease=lease, **named),
                        }
                    },
                    account_is_active(export.sub),
                ]
            )
        except TransactionCancelled as exc:
            if exc.failed(0) or exc.failed(1):
                return False
            raise
        return True

    def progress(
        self, export: Export, lease: str, *, section: str, done: Sequence[str], items: int, parts: int, now: str
    ) -> bool:
        """Record how far the export got (at a checkpoint); False if the lease or the account went."""
        return self._while_held(
            export,
            lease,
            "SET #status = :running, #section = :section, sections_done = :done, #items = :items, parts = :parts, "
            "updated_at = :now",
            running=ExportStatus.RUNNING,
            section=section,
            done=list(done),
            items=items,
            parts=parts,
            now=now,
        )

    def let_go(self, export: Export, lease: str, now: str) -> bool:
        """Give the lease up (the work goes on in the next invocation, at once)."""
        return self._while_held(export, lease, "SET lease_until = :now, updated_at = :now", now=now)

    def finish(
        self, export: Export, lease: str, *, object_key: str, size: int, missing: int, done: Sequence[str], now: str
    ) -> bool:
        """Mark the export ready; False if the account or the export went meanwhile."""
        finished = self._while_held(
            export,
            lease,
            "SET #status = :ready, object_key = :object, #size = :size, statements_missing = :missing, "
            "sections_done = :done, ready_at = :now, updated_at = :now REMOVE lease_until, #section",
            ready=ExportStatus.READY,
            object=object_key,
            size=size,
            missing=missing,
            done=list(done),
            now=now,
        )
        if finished:
            self.release_account(export)
        return finished

    def fail(self, export: Export, reason: str, now: str) -> None:
        """Mark the export failed (if it is still there) and let the account export again."""
        try:
            self.table.update(
                export.key,
                UpdateExpression="SET #status = :failed, failure = :reason, updated_at = :now REMOVE lease_until",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(failed=ExportStatus.FAILED, reason=reason, now=now),
            )
        except ConditionFailed:
            return
        self.release_account(export)

    def release_account(self, export: Export) -> None:
        """Free the account's lease on exporting, if this export holds it."""
        try:
            self.table.delete(
                running_key(export.sub),
                ConditionExpression="export_id = :id",
                ExpressionAttributeValues=values(id=export.export_id),
            )
        except ConditionFailed:
            return

    def mark_notified(self, export: Export, now: str) -> bool:
        """Claim the sending of the export's email; False if it went out before (or is gone)."""
        try:
            self.table.update(
                export.key,
                UpdateExpression="SET notified_at = :now",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(notified_at)",
                ExpressionAttributeValues=values(now=now),
            )
        except ConditionFailed:
            return False
        return True

    def unmark_notified(self, export: Export) -> None:
        """The email could not be sent: the retry sends it."""
        try:
            self.table.update(
                export.key, UpdateExpression="REMOVE notified_at", ConditionExpression="attribute_exists(PK)"
            )
        except ConditionFailed:
            return

    def forget(self, export: Export) -> None:
        """Remove the export's record (its account is going: nothing of it stays)."""
        self.table.delete(export.key)
        self.release_account(export)
