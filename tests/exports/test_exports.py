"""Data export: started once per request, one at a time and a few a day; built into one ZIP of
everything the service keeps of the account (cards: brand, last 4 and expiry only); shown with a
short-lived download link; the link emailed; erased with the account."""

from __future__ import annotations

import io
import json
import os
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from PIL import Image

from account_billing.activity.records import ActivityKind
from account_billing.emails.mailer import SesMailer
from account_billing.exports.storage import ExportStorage
from account_billing.exports.worker import MAX_ATTEMPTS
from functions.exports import app as exports_routes
from tests.activity.support import kinds
from tests.exports.conftest import Statements
from tests.exports.support import (
    archive,
    bucket_keys,
    drain,
    member,
    open_uploads,
    queued,
    run,
    show,
    start,
)
from tests.support import table
from tests.support.avatars import AvatarClient
from tests.support.emails import EmailsClient
from tests.support.lifecycle import Billing, Lifecycle
from tests.support.mailbox import latest_token, messages_to
from tests.support.profile import ProfileClient

ADA = "ada@example.com"


@pytest.fixture
def ada(aws: dict[str, str]) -> str:
    client = ProfileClient("user-ada", claims={"email": ADA, "email_verified": "true"})
    assert client.create("ada", first_name="Ada")[0] == 201
    return "user-ada"


def started(sub: str, key: str | None = None) -> dict[str, Any]:
    status, headers, body = start(sub, key)
    assert status == 202, body
    assert headers["location"] == f"/v1/account/exports/{body['id']}"
    return dict(body)


def ready(sub: str, export_id: str) -> dict[str, Any]:
    status, _, body = show(sub, export_id)
    assert status == 200, body
    assert body["status"] == "ready", body
    return dict(body)


def object_key(sub: str, export_id: str) -> str:
    record = table.existing(f"ACCOUNT#{sub}", f"EXPORT#{export_id}")
    return str(record["object_key"])


# ------------------------------------------------------------------ starting


def test_an_export_starts_queued_and_is_in_the_activity_log(ada: str) -> None:
    body = started(ada)

    assert body["status"] == "queued"
    assert body["download_url"] is None
    [message] = queued()
    assert json.loads(message["Body"]) == {"account": ada, "export": body["id"]}
    assert ActivityKind.EXPORT_REQUESTED in kinds(ada)


def test_a_retried_request_finds_the_export_it_started_and_counts_once(ada: str) -> None:
    first = started(ada, key="retry-key-0001")
    again = started(ada, key="retry-key-0001")

    assert again["id"] == first["id"]
    assert kinds(ada).count(ActivityKind.EXPORT_REQUESTED) == 1
    assert len(queued()) == 2  # queued again, in case the first message was lost: built once
    [window] = [i for i in table.all_items() if i["PK"] == f"LIMIT#exports#{ada}"]
    assert window["count"] == 1


def test_one_export_runs_at_a_time(ada: str) -> None:
    started(ada)

    status, _, body = start(ada)

    assert status == 409
    assert body["type"].endswith("export-running")


def test_a_few_exports_a_day_then_429_with_retry_after(ada: str) -> None:
    for _ in range(3):
        export = started(ada)
        drain()
        ready(ada, export["id"])

    status, headers, body = start(ada)

    assert status == 429
    assert body["type"].endswith("exports-limit-reached")
    assert 1 <= int(headers["retry-after"]) <= 86_400
    assert kinds(ada).count(ActivityKind.EXPORT_REQUESTED) == 3


def test_an_export_needs_an_account_and_an_idempotency_key(aws: dict[str, str]) -> None:
    assert start("user-nobody")[0] == 404
    assert not queued()


def test_another_accounts_export_is_not_found(ada: str) -> None:
    export = started(ada)
    ProfileClient("user-bob").create("bob")

    status, _, body = show("user-bob", export["id"])

    assert status == 404
    assert body["type"].endswith("export-not-found")
    assert show(ada, export["id"])[0] == 200


@pytest.mark.parametrize("export_id", ["exp_zz", "EXPORT_RUNNING", "exp_" + "Z" * 24, "exp_" + "0" * 40])
def test_a_malformed_export_id_is_422(ada: str, export_id: str) -> None:
    assert show(ada, export_id)[0] == 422


# ------------------------------------------------------------------ building


def test_the_archive_holds_the_accounts_data_and_the_link_is_emailed(
    lifecycle: Lifecycle, statements: Statements
) -> None:
    # Given an account with a verified address, a card, a paid plan and months of invoices
    billing = Billing("user-ada").with_card()
    emails = EmailsClient("user-ada")
    assert emails.add(ADA)[0] == 201
    assert emails.verify(latest_token(ADA))[0] == 200
    assert billing.change("developer")[0] == 200
    for _ in range(2):
        lifecycle.advance(31)
    lifecycle.deliver()
    invoices = billing.invoices(limit=100)[2]["invoices"]
    assert len(invoices) >= 2

    # When it exports its data
    export = started("user-ada")
    assert drain() == 1

    # Then the export is ready with a short-lived link, and the archive holds every section
    shown = ready("user-ada", export["id"])
    query = parse_qs(urlsplit(shown["download_url"]).query)
    assert query["X-Amz-Expires"] == ["900"]
    assert "attachment" in query["response-content-disposition"][0]
    assert shown["progress"]["sections_done"][-1] == "activity"
    zipped = archive(object_key("user-ada", export["id"]))
    assert zipped.testzip() is None
    names = zipped.namelist()
    for name in (
        "README.txt",
        "profile.json",
        "emails.json",
        "cards.json",
        "holds.json",
        "subscription.json",
        "spending.json",
        "invoices.json",
        "activity.json",
        "manifest.json",
    ):
        assert name in names
    assert member(zipped, "profile.json")["user_id"] == "user_ada"
    assert [e["address"] for e in member(zipped, "emails.json")] == [ADA]
    assert member(zipped, "subscription.json")["plan"] == "developer"
    assert len(member(zipped, "holds.json")) == 1
    exported = member(zipped, "invoices.json")
    assert [i["id"] for i in exported] == [i["id"] for i in invoices]
    for invoice in exported:
        if invoice["statement"]:
            assert zipped.read(invoice["statement"]).startswith(b"%PDF")
    activity = member(zipped, "activity.json")
    assert {"card.added", "plan.changed", "email.verified"} <= {e["kind"] for e in activity}
    manifest = member(zipped, "manifest.json")
    assert manifest["counts"]["invoices"] == len(invoices)
    assert manifest["missing_statements"] == []
    # and the email with the link went to the verified primary address
    [mail] = [m for m in messages_to(ADA) if m.subject == "Your data export is ready"]
    assert f"/settings/account/exports/{export['id']}" in mail.body


def test_cards_are_exported_with_brand_last4_and_expiry_only(lifecycle: Lifecycle, statements: Statements) -> None:
    Billing("user-ada").with_card()
    export = started("user-ada")
    drain()

    zipped = archive(object_key("user-ada", ready("user-ada", export["id"])["id"]))
    [card] = member(zipped, "cards.json")

    assert set(card) == {"brand", "last4", "exp_month", "exp_year", "default", "added_at"}
    assert (card["brand"], card["last4"]) == ("visa", "4242")
    everything = b"".join(zipped.read(name) for name in zipped.namelist())
    assert b"4242424242424242" not in everything
    assert b"fingerprint" not in everything
    assert b"pm_" not in zipped.read("cards.json")


def test_a_statement_that_cannot_be_fetched_is_in_the_manifest(lifecycle: Lifecycle, statements: Statements) -> None:
    billing = Billing("user-ada").with_card()
    billing.change("developer")
    lifecycle.deliver()
    statements.failing.add("pay.stripe.com")  # every statement download fails
    export = started("user-ada")

    drain()

    shown = ready("user-ada", export["id"])
    zipped = archive(object_key("user-ada", export["id"]))
    missing = member(zipped, "manifest.json")["missing_statements"]
    assert missing
    assert all(m["reason"] == "HTTPError" for m in missing)
    assert shown["statements_missing"] == len(missing)
    assert not [name for name in zipped.namelist() if name.startswith("statements/")]


def test_a_repeated_message_builds_nothing_twice(ada: str, statements: Statements) -> None:
    export = started(ada)
    [message] = queued()
    assert run(message) == []
    parts_before = table.existing(f"ACCOUNT#{ada}", f"EXPORT#{export['id']}")["parts"]

    assert run(message) == []  # SQS delivers it again

    assert table.existing(f"ACCOUNT#{ada}", f"EXPORT#{export['id']}")["parts"] == parts_before
    assert len([m for m in messages_to(ADA) if m.subject == "Your data export is ready"]) == 1
    assert bucket_keys() == [object_key(ada, export["id"])]  # the checkpoint is gone


def test_an_export_with_no_verified_address_is_ready_without_an_email(aws: dict[str, str]) -> None:
    ProfileClient("user-bob").create("bob")
    export = started("user-bob")
    drain()

    assert ready("user-bob", export["id"])["download_url"]
    assert not [m for m in messages_to(ADA) if m.subject == "Your data export is ready"]


# ------------------------------------------------------------------ erased with the account


def test_deleting_the_account_erases_its_exports(ada: str) -> None:
    export = started(ada)
    drain()
    assert bucket_keys()

    assert ProfileClient(ada).delete("ada")[0] == 204

    assert bucket_keys() == []
    assert not [i for i in table.all_items() if i["SK"].startswith("EXPORT")]
    assert show(ada, export["id"])[0] == 404


def test_a_queued_export_of_a_deleted_account_leaves_nothing(ada: str) -> None:
    started(ada)
    [message] = queued()
    assert ProfileClient(ada).delete("ada")[0] == 204

    assert run(message) == []

    assert bucket_keys() == []
    assert open_uploads() == []
    assert not [i for i in table.all_items() if i["SK"].startswith("EXPORT")]


@pytest.mark.parametrize("deleted", ["after-a-part", "before-a-part"])
def test_an_account_deleted_while_its_export_is_built_leaves_nothing(
    ada: str, statements: Statements, monkeypatch: pytest.MonkeyPatch, deleted: str
) -> None:
    # Given an export whose account is deleted while a part of its archive is uploaded
    started(ada)
    [message] = queued()
    upload_part = ExportStorage.upload_part
    deletions: list[int] = []

    def racing(self: ExportStorage, key: str, upload_id: str, number: int, data: bytes) -> str:
        if deleted == "before-a-part" and not deletions:
            deletions.append(ProfileClient(ada).delete("ada")[0])  # aborts the upload
        etag = upload_part(self, key, upload_id, number, data)
        if not deletions:
            deletions.append(ProfileClient(ada).delete("ada")[0])
        return etag

    monkeypatch.setattr(ExportStorage, "upload_part", racing)

    # When the export function goes on (SQS delivers the message again if a run fails)
    runs = 1
    while run(message):
        runs += 1
        assert runs <= 2

    # Then the deletion went through, and neither an archive nor a record is left
    assert deletions == [204]
    assert bucket_keys() == []
    assert open_uploads() == []
    assert [i["SK"] for i in table.all_items() if i["PK"] == f"ACCOUNT#{ada}"] == ["TOMBSTONE"]


def test_an_export_finishing_as_its_account_is_deleted_leaves_nothing(
    ada: str, statements: Statements, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The deletion begins between the archive's last part and the export's finish
    started(ada)
    [message] = queued()
    complete = ExportStorage.complete

    def racing(self: ExportStorage, key: str, upload_id: str, parts: Any) -> None:
        complete(self, key, upload_id, parts)
        assert ProfileClient(ada).delete("ada")[0] == 204

    monkeypatch.setattr(ExportStorage, "complete", racing)

    assert run(message) == []

    assert bucket_keys() == []
    assert [i["SK"] for i in table.all_items() if i["PK"] == f"ACCOUNT#{ada}"] == ["TOMBSTONE"]


def test_a_failing_email_is_sent_by_the_retry(ada: str, monkeypatch: pytest.MonkeyPatch) -> None:
    export = started(ada)
    [message] = queued()
    original = SesMailer.__call__
    calls: list[int] = []

    def flaky(self: SesMailer, sent: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("SES is unavailable")
        original(self, sent)

    monkeypatch.setattr(SesMailer, "__call__", flaky)

    assert len(run(message)) == 1  # reported as failed: SQS delivers it again
    assert ready(ada, export["id"])
    assert run(message) == []

    assert len([m for m in messages_to(ADA) if m.subject == "Your data export is ready"]) == 1


def test_the_published_avatar_images_are_in_the_archive(ada: str, statements: Statements) -> None:
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 90)).save(image, "JPEG")
    AvatarClient(ada).upload(image.getvalue())
    published = ProfileClient(ada).get()[2]["avatar"]
    assert published["status"] == "ready"
    export = started(ada)

    drain()

    zipped = archive(object_key(ada, ready(ada, export["id"])["id"]))
    images = [name for name in zipped.namelist() if name.startswith("avatar/")]
    assert images
    for name in images:
        assert Image.open(io.BytesIO(zipped.read(name))).size[0] > 0
    assert member(zipped, "manifest.json")["counts"]["avatar"] == len(images)


def test_a_ready_export_expires_with_its_archive(ada: str, statements: Statements) -> None:
    export = started(ada)
    drain()
    shown = ready(ada, export["id"])
    later = datetime.fromisoformat(shown["available_until"]) + timedelta(seconds=1)
    exports_routes.exports().clock = lambda: later

    status, _, expired = show(ada, export["id"])

    assert (status, expired["status"], expired["download_url"]) == (200, "expired", None)


def test_an_export_that_keeps_failing_is_given_up_and_the_account_may_export_again(
    ada: str, statements: Statements, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = started(ada)
    [message] = queued()
    monkeypatch.setattr(ExportStorage, "upload_part", broken_upload)
    assert len(run(message)) == 1  # SQS delivers it again, and again
    boto3.client("dynamodb").update_item(  # as after the runs SQS allows
        TableName=os.environ["TABLE_NAME"],
        Key={"PK": {"S": f"ACCOUNT#{ada}"}, "SK": {"S": f"EXPORT#{export['id']}"}},
        UpdateExpression="SET attempts = :many REMOVE lease_until",
        ExpressionAttributeValues={":many": {"N": str(MAX_ATTEMPTS)}},
    )

    assert run(message) == []

    status, _, body = show(ada, export["id"])
    assert (status, body["status"], body["download_url"]) == (200, "failed", None)
    assert bucket_keys() == []
    assert open_uploads() == []
    assert start(ada)[0] == 202


def broken_upload(self: ExportStorage, key: str, upload_id: str, number: int, data: bytes) -> str:
    raise ConnectionError("S3 is unreachable")
