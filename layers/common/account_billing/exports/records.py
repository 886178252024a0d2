"""An export as stored: `ACCOUNT#<sub>` / `EXPORT#<id>` (in the account's partition, so the
account's erasure removes it), and `ACCOUNT#<sub>` / `EXPORT_RUNNING`, the lease that lets one
export run per account at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from account_billing.core import keys, records

EXPORT_PREFIX = "EXPORT#"
RUNNING_SK = "EXPORT_RUNNING"


class ExportStatus(StrEnum):
    QUEUED = "queued"  # waiting for the export function
    RUNNING = "running"  # being built
    READY = "ready"  # the archive is there to download (until it expires)
    FAILED = "failed"  # could not be built (the reason says why)


UNFINISHED = (ExportStatus.QUEUED, ExportStatus.RUNNING)


def export_id_for(sub: str, request_key: str) -> str:
    """The id of the export a request with Idempotency-Key `request_key` starts: the same for
    every retry of that request, so a retry finds the export its first attempt started."""
    return "exp_" + hashlib.sha256(f"{sub}\x1f{request_key}".encode()).hexdigest()[:24]


def export_key(sub: str, export_id: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"{EXPORT_PREFIX}{export_id}"}


def running_key(sub: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": RUNNING_SK}


@dataclass(frozen=True, slots=True)
class Export:
    sub: str
    export_id: str
    status: ExportStatus
    requested_at: str
    updated_at: str
    expires_at: int  # DynamoDB's TTL: gone with its archive
    sections_done: list[str] = field(default_factory=list)
    section: str | None = None  # the section being written
    items: int = 0  # items written so far (records, files)
    parts: int = 0  # parts of the archive uploaded so far
    lease_until: str | None = None  # while an export function works on it
    attempts: int = 0
    object_key: str | None = None  # the archive, once ready
    size: int | None = None  # its bytes
    statements_missing: int = 0  # statements that could not be fetched (the manifest lists them)
    ready_at: str | None = None
    notified_at: str | None = None  # the email with the link went out
    failure: str | None = None

    @property
    def key(self) -> keys.Key:
        return export_key(self.sub, self.export_id)

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED

    def to_item(self) -> dict[str, Any]:
        return records.to_item(self, self.key, "export")

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Export:
        return records.from_item(
            cls,
            item,
            sub=keys.sub_of(item["PK"]),
            sections_done=list(item.get("sections_done") or []),
            items=int(item.get("items", 0)),
            parts=int(item.get("parts", 0)),
            attempts=int(item.get("attempts", 0)),
            expires_at=int(item["expires_at"]),
            size=int(item["size"]) if item.get("size") is not None else None,
            statements_missing=int(item.get("statements_missing", 0)),
        )
