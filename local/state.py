"""The local stack's data, kept across restarts under `.local/state/`, through each service's own
API: on stop, every item of the template's DynamoDB tables (Scan), every object of its S3
buckets (with its content type and metadata), the EventBridge Scheduler schedules the code
created in the template's schedule groups (hold releases not yet fired), the Stripe simulator's
state and the local clock's offset; on start, the same put back (BatchWriteItem, PutObject,
CreateSchedule) before the functions serve anything. `make dev RESET=1` starts empty.

Not kept: SES mail (the mailbox), queues' messages, metrics and logs, SSM parameters (the
stack writes them on start), the events on the buses. Resources are matched by their logical
ids, so the state follows the template rather than physical names.

A save is written beside the previous one and swapped in whole, so a crash while saving leaves
the last good state."""

from __future__ import annotations

import base64
import json
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("local")

VERSION = 1
STATE = "state"
_SCHEDULE_FIELDS = (
    "ActionAfterCompletion",
    "Description",
    "EndDate",
    "FlexibleTimeWindow",
    "GroupName",
    "KmsKeyArn",
    "Name",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "State",
    "Target",
)


# ---------------------------------------------------------------------------- DynamoDB JSON
def _encode(value: Any) -> Any:
    """A typed DynamoDB value as JSON: binary ("B", "BS") as base64."""
    if isinstance(value, dict):
        return {
            kind: (
                base64.b64encode(inner).decode()
                if kind == "B"
                else [base64.b64encode(b).decode() for b in inner]
                if kind == "BS"
                else _encode(inner)
            )
            for kind, inner in value.items()
        }
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            kind: (
                base64.b64decode(inner)
                if kind == "B"
                else [base64.b64decode(b) for b in inner]
                if kind == "BS"
                else _decode(inner)
            )
            for kind, inner in value.items()
        }
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _rename(value: Any, names: Mapping[str, str]) -> Any:
    """`value` with every old physical name replaced by the new one (ARNs in schedule targets)."""
    text = json.dumps(value)
    for old, new in sorted(names.items(), key=lambda pair: -len(pair[0])):
        if old != new:
            text = text.replace(old, new)
    return json.loads(text)


@dataclass
class Resources:
    """What the state is read from and written to: logical id → physical name of each kind."""

    dynamodb: Any
    s3: Any
    scheduler: Any
    tables: dict[str, str]
    buckets: dict[str, str]
    schedule_groups: dict[str, str]
    template_schedules: set[tuple[str, str]]  # (group, name) of the schedules the template declares
    names: dict[str, str]  # logical id → physical name, functions included (to rename ARNs)


class StateNotRestored(Exception):
    """The saved state could not be put back (another version, a damaged file)."""


class SavedState:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STATE

    def exists(self) -> bool:
        return (self.path / "manifest.json").is_file()

    def clear(self) -> None:
        for path in (self.path, self.path.with_name(f"{STATE}.new"), self.path.with_name(f"{STATE}.old")):
            shutil.rmtree(path, ignore_errors=True)

    def clock_offset(self) -> float:
        if not self.exists():
            return 0.0
        try:
            return float(self._manifest().get("clock_offset", 0.0))
        except (ValueError, TypeError, OSError) as exc:
            raise StateNotRestored(f"{self.path}: {exc}") from exc

    def stripe(self) -> dict[str, Any] | None:
        path = self.path / "stripe.json"
        if not self.exists() or not path.is_file():
            return None
        try:
            state: dict[str, Any] = json.loads(path.read_text())
        except ValueError as exc:
            raise StateNotRestored(f"{path}: {exc}") from exc
        return state

    def _manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.path / "manifest.json").read_text())
        if manifest.get("version") != VERSION:
            raise ValueError(f"{self.path}: a state of version {manifest.get('version')}; start with RESET=1")
        return manifest

    # ------------------------------------------------------------------ save
    def save(self, resources: Resources, *, clock_offset: float, stripe: dict[str, Any] | None) -> dict[str, int]:
        new = self.path.with_name(f"{STATE}.new")
        shutil.rmtree(new, ignore_errors=True)
        new.mkdir(parents=True)
        counts = {
            "items": self._save_tables(resources, new),
            "objects": self._save_buckets(resources, new),
            "schedules": self._save_schedules(resources, new),
        }
        if stripe is not None:
            (new / "stripe.json").write_text(json.dumps(stripe))
            counts["stripe_objects"] = len(stripe.get("objects", {}))
        manifest = {"version": VERSION, "clock_offset": clock_offset, "names": resources.names, "counts": counts}
        (new / "manifest.json").write_text(json.dumps(manifest, indent=2))
        old = self.path.with_name(f"{STATE}.old")
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            self.path.rename(old)
        new.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)
        return counts

    @staticmethod
    def _save_tables(resources: Resources, into: Path) -> int:
        folder = into / "dynamodb"
        folder.mkdir()
        total = 0
        for logical, table in resources.tables.items():
            with (folder / f"{logical}.jsonl").open("w") as out:
                for page in resources.dynamodb.get_paginator("scan").paginate(TableName=table):
                    for item in page["Items"]:
                        out.write(json.dumps(_encode(item)) + "\n")
                        total += 1
        return total

    @staticmethod
    def _save_buckets(resources: Resources, into: Path) -> int:
        total = 0
        for logical, bucket in resources.buckets.items():
            folder = into / "s3" / logical
            folder.mkdir(parents=True)
            listing = []
            for page in resources.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for summary in page.get("Contents", []):
                    got = resources.s3.get_object(Bucket=bucket, Key=summary["Key"])
                    blob = f"{total:08d}"
                    (folder / blob).write_bytes(got["Body"].read())
                    listing.append(
                        {
                            "key": summary["Key"],
                            "blob": blob,
                            "content_type": got.get("ContentType"),
                            "cache_control": got.get("CacheControl"),
                            "metadata": got.get("Metadata") or {},
                        }
                    )
                    total += 1
            (folder / "objects.json").write_text(json.dumps(listing, indent=1))
        return total

    @staticmethod
    def _save_schedules(resources: Resources, into: Path) -> int:
        saved = []
        for group in resources.schedule_groups.values():
            for page in resources.scheduler.get_paginator("list_schedules").paginate(GroupName=group):
                for summary in page["Schedules"]:
                    if (group, summary["Name"]) in resources.template_schedules:
                        continue
                    detail = resources.scheduler.get_schedule(Name=summary["Name"], GroupName=group)
                    saved.append({k: detail[k] for k in _SCHEDULE_FIELDS if detail.get(k) is not None})
        (into / "schedules.json").write_text(json.dumps(saved, indent=1, default=str))
        return len(saved)

    # ------------------------------------------------------------------ restore
    def restore(self, resources: Resources) -> dict[str, int]:
        """Put the saved data back into the stack's (empty) resources."""
        if not self.exists():
            return {}
        try:
            return self._restore(resources)
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise StateNotRestored(f"{self.path}: {exc}") from exc

    def _restore(self, resources: Resources) -> dict[str, int]:
        manifest = self._manifest()
        renames = {
            old: resources.names[logical]
            for logical, old in manifest.get("names", {}).items()
            if logical in resources.names
        }
        return {
            "items": self._restore_tables(resources),
            "objects": self._restore_buckets(resources),
            "schedules": self._restore_schedules(resources, renames),
        }

    def _restore_tables(self, resources: Resources) -> int:
        total = 0
        for logical, table in resources.tables.items():
            path = self.path / "dynamodb" / f"{logical}.jsonl"
            if not path.is_file():
                continue
            items = [_decode(json.loads(line)) for line in path.read_text().splitlines() if line]
            for start in range(0, len(items), 25):  # BatchWriteItem takes 25 at a time
                requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                pending = {table: requests}
                while pending:
                    pending = resources.dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            total += len(items)
        return total

    def _restore_buckets(self, resources: Resources) -> int:
        total = 0
        for logical, bucket in resources.buckets.items():
            folder = self.path / "s3" / logical
            if not (folder / "objects.json").is_file():
                continue
            for entry in json.loads((folder / "objects.json").read_text()):
                extra = {"Metadata": entry["metadata"]}
                if entry.get("content_type"):
                    extra["ContentType"] = entry["content_type"]
                if entry.get("cache_control"):
                    extra["CacheControl"] = entry["cache_control"]
                body = (folder / entry["blob"]).read_bytes()
                resources.s3.put_object(Bucket=bucket, Key=entry["key"], Body=body, **extra)
                total += 1
        return total

    def _restore_schedules(self, resources: Resources, renames: Mapping[str, str]) -> int:
        path = self.path / "schedules.json"
        if not path.is_file():
            return 0
        schedules = _rename(json.loads(path.read_text()), renames)
        for schedule in schedules:
            resources.scheduler.create_schedule(**schedule)
        return len(schedules)
