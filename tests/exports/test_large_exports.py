"""Exports of accounts with thousands of invoices and log entries: read a page at a time, written
in parts of the configured size with a bounded buffer, and resumed after a run runs out of time
or dies, producing the same archive byte for byte."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from account_billing.activity.records import ActivityEntry, ActivityKind
from account_billing.billing.invoices.records import Invoice
from account_billing.core.clock import utc_now
from account_billing.core.origin import Actor
from account_billing.core.table import marshal
from account_billing.core.wiring import providing
from account_billing.exports import worker as worker_module
from account_billing.exports.archive import ArchiveWriter
from account_billing.exports.statements import FetchStatement, statement_fetcher
from account_billing.exports.storage import ExportStorage
from functions.account_exports import app as exports_app
from tests.exports.support import archive, archive_bytes, bucket_keys, drain, member, queued, run, show, start
from tests.support import table
from tests.support.profile import ProfileClient

MIB = 1024 * 1024
PART = 5 * MIB  # S3's smallest part but the last
STATEMENT_BYTES = 12 * 1024
SUB = "user-ada"


def statement(url: str) -> bytes:
    """A statement's bytes: incompressible, like a PDF's streams, and the same for one address."""
    return b"%PDF-1.4\n" + random.Random(hashlib.sha256(url.encode()).digest()).randbytes(STATEMENT_BYTES)


class PagedInvoices:
    """The account's invoice copies as `InvoiceStore` pages them, newest first, made one page at
    a time (nothing holds them all) and counting the pages asked for."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.limits: list[int] = []

    @staticmethod
    def invoice(n: int) -> Invoice:
        created = 1_700_000_000 + n * 86_400
        return Invoice(
            sub=SUB,
            invoice_id=f"in_{n:08d}",
            status="paid",
            amount_due=2900,
            amount_paid=2900,
            currency="usd",
            period_start=created,
            period_end=created + 86_400,
            created=created,
            synced_at=created,
            number=f"ADA-{n:05d}",
            invoice_pdf=f"https://pay.stripe.com/invoice/acct_x/test_{n:08d}/pdf?s=ap",
        )

    def page(self, sub: str, limit: int, after: str | None) -> tuple[list[Invoice], str | None]:
        self.limits.append(limit)
        top = self.count - 1 if after is None else int(after.rsplit("_", 1)[-1]) - 1
        found = [self.invoice(n) for n in range(top, max(top - limit, -1), -1)]
        return found, (found[-1].sort_key if len(found) == limit else None)


class PagedActivity:
    """The account's activity log as `ActivityStore` pages it, newest first, one page at a time."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.limits: list[int] = []

    @staticmethod
    def entry(n: int) -> ActivityEntry:
        return ActivityEntry(
            sub=SUB,
            at=f"2026-01-01T00:00:00.{n:06d}Z",
            entry_id=f"{n:020x}",
            kind=ActivityKind.PROFILE_UPDATED,
            actor=Actor.USER,
            details={"fields": "bio"},
            source_ip="203.0.113.7",
            user_agent="Mozilla/5.0",
        )

    def page(self, sub: str, limit: int, after: str | None, kinds: Any = ()) -> tuple[list[ActivityEntry], str | None]:
        self.limits.append(limit)
        top = self.count - 1 if after is None else int(after.rsplit("#", 1)[-1], 16) - 1
        found = [self.entry(n) for n in range(top, max(top - limit, -1), -1)]
        return found, (found[-1].key["SK"] if len(found) == limit and top - limit >= 0 else None)


class Writers:
    """Every ArchiveWriter the export function makes, to read how much each buffered at most."""

    def __init__(self) -> None:
        self.made: list[ArchiveWriter] = []

    def __call__(self, *args: Any, **kwargs: Any) -> ArchiveWriter:
        writer = ArchiveWriter(*args, **kwargs)
        self.made.append(writer)
        return writer


def seed(invoices: int, entries: int) -> tuple[PagedInvoices, PagedActivity]:
    """The account's invoices and log, as the export function's sources read them."""
    paged = PagedInvoices(invoices), PagedActivity(entries)
    sources = exports_app.worker().sources
    sources.invoices, sources.activity = paged  # type: ignore[assignment]
    return paged


@pytest.fixture
def large(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("EXPORT_PART_SIZE", str(PART))
    fetch: FetchStatement = statement
    assert ProfileClient(SUB, claims={"email": "ada@example.com", "email_verified": "true"}).create("ada")[0] == 201
    with providing(statement_fetcher, fetch):
        yield


def started() -> str:
    status, _, body = start(SUB)
    assert status == 202, body
    return str(body["id"])


def object_key(export_id: str) -> str:
    return str(table.existing(f"ACCOUNT#{SUB}", f"EXPORT#{export_id}")["object_key"])


def test_thousands_of_invoices_and_entries_stream_in_parts_with_a_bounded_buffer(
    large: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account with 3,000 invoices (each with a 12 KB statement) and 5,000 log entries
    invoices, activity = seed(invoices=3_000, entries=5_000)
    writers = Writers()
    monkeypatch.setattr(worker_module, "ArchiveWriter", writers)
    uploaded: list[int] = []
    upload_part = ExportStorage.upload_part

    def counted(self: ExportStorage, key: str, upload_id: str, number: int, data: bytes) -> str:
        uploaded.append(len(data))
        return upload_part(self, key, upload_id, number, data)

    monkeypatch.setattr(ExportStorage, "upload_part", counted)

    # When it is exported
    export_id = started()
    assert drain() == 1

    # Then the archive went up in parts of the configured size (the last one smaller), the buffer
    # never held much more than a part, and both lists were read a page of 100 at a time
    assert len(uploaded) >= 7
    assert all(PART <= size < PART + 64 * 1024 for size in uploaded[:-1])
    assert uploaded[-1] < PART + 64 * 1024
    [writer] = writers.made
    assert writer.peak < PART + 64 * 1024
    # listed once, then again for the statements (a full last page is followed by an empty one)
    assert invoices.limits == [100] * 62
    assert activity.limits == [100] * 50
    # and the archive holds all of it
    zipped = archive(object_key(export_id))
    assert len(member(zipped, "invoices.json")) == 3_000
    assert len(member(zipped, "activity.json")) == 5_000
    assert len([n for n in zipped.namelist() if n.startswith("statements/")]) == 3_000
    assert zipped.read("statements/ADA-02999.pdf") == statement(
        "https://pay.stripe.com/invoice/acct_x/test_00002999/pdf?s=ap"
    )
    assert member(zipped, "manifest.json")["counts"]["statements"] == 3_000
    shown = show(SUB, export_id)[2]
    assert shown["size_bytes"] == sum(uploaded)
    assert shown["progress"]["items"] >= 3_000 + 3_000 + 5_000


def rebuild(export_id: str) -> None:
    """Forget the archive and everything the export function recorded, as if it never ran."""
    for key in bucket_keys():
        boto3.client("s3").delete_object(Bucket=table_bucket(), Key=key)
    boto3.client("dynamodb").update_item(
        TableName=next(t for t in boto3.client("dynamodb").list_tables()["TableNames"] if t.endswith("AccountTable")),
        Key=marshal({"PK": f"ACCOUNT#{SUB}", "SK": f"EXPORT#{export_id}"}),
        UpdateExpression="SET #status = :queued REMOVE lease_until, ready_at, notified_at, object_key",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":queued": {"S": "queued"}},
    )


def table_bucket() -> str:
    import os  # noqa: PLC0415

    return os.environ["EXPORT_BUCKET"]


@pytest.mark.parametrize("interruption", ["out-of-time", "died"])
def test_a_resumed_export_writes_the_same_archive(
    large: None, monkeypatch: pytest.MonkeyPatch, interruption: str
) -> None:
    # Given an export built in one run
    seed(invoices=900, entries=300)
    export_id = started()
    [message] = queued()
    assert run(message) == []
    whole = archive_bytes(object_key(export_id))
    rebuild(export_id)

    # When it is built again, interrupted after its first part
    if interruption == "out-of-time":
        # the run learns it has less than two minutes left once its first part is up
        parts: list[int] = []
        upload_part = ExportStorage.upload_part

        def counted(self: ExportStorage, key: str, upload_id: str, number: int, data: bytes) -> str:
            parts.append(number)
            return upload_part(self, key, upload_id, number, data)

        monkeypatch.setattr(ExportStorage, "upload_part", counted)
        assert run(message, remaining=lambda: 600_000 if not parts else 60_000) == []
        assert table.existing(f"ACCOUNT#{SUB}", f"EXPORT#{export_id}")["status"] == "running"
        monkeypatch.setattr(ExportStorage, "upload_part", upload_part)
        assert drain() >= 1  # the continuation the run queued
    else:
        # the run dies uploading its second part; SQS delivers the message again once the
        # run's lease on the export has run out
        upload_part = ExportStorage.upload_part

        def dying(self: ExportStorage, key: str, upload_id: str, number: int, data: bytes) -> str:
            if number == 2:
                raise TimeoutError("Task timed out")
            return upload_part(self, key, upload_id, number, data)

        monkeypatch.setattr(ExportStorage, "upload_part", dying)
        assert len(run(message)) == 1
        monkeypatch.setattr(ExportStorage, "upload_part", upload_part)
        assert run(message) == []  # its lease has not run out: another run holds it
        assert table.existing(f"ACCOUNT#{SUB}", f"EXPORT#{export_id}")["status"] == "running"
        later = utc_now() + timedelta(minutes=17)
        exports_app.worker().clock = lambda: later
        assert run(message) == []

    # Then the archive is the same, byte for byte
    assert table.existing(f"ACCOUNT#{SUB}", f"EXPORT#{export_id}")["status"] == "ready"
    assert archive_bytes(object_key(export_id)) == whole
    assert bucket_keys() == [object_key(export_id)]
