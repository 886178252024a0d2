"""The S3-triggered validator against moto: the corpus, repeated and out-of-order events,
races between uploads, deleted accounts, and objects that are none of its business."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from account_billing.accounts.records import Account
from account_billing.avatars import images, keys, validation
from account_billing.avatars.storage import AvatarStorage, s3_client
from account_billing.avatars.store import AvatarStore
from account_billing.avatars.validation import AvatarValidator, Outcome
from account_billing.core.settings import get_settings
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client
from functions.avatar_validator import app as avatar_validator
from tests.support import corpus, table
from tests.support.avatars import AvatarClient, bucket_keys, deliver, key_of_url, put_upload, s3_event
from tests.support.events import LambdaContext
from tests.support.profile import ProfileClient

SUB = "6c1f0e2a-5d1b-4a8e-9b9e-2f4d8c7a1e01"
ADA = ProfileClient(SUB)
AVATAR = AvatarClient(SUB)


@pytest.fixture(autouse=True)
def account(aws: dict[str, str]) -> None:
    assert ADA.create("ada_lovelace", first_name="Ada", last_name="Lovelace")[0] == 201


def avatar_of(client: ProfileClient = ADA) -> dict[str, Any]:
    status, _, body = client.get()
    assert status == 200
    avatar: dict[str, Any] = body["avatar"]
    return avatar


def stored_avatar() -> dict[str, Any]:
    item = table.item(f"ACCOUNT#{SUB}", "PROFILE")
    assert item is not None
    avatar: dict[str, Any] = item.get("avatar") or {}
    return avatar


def requested(content_type: str = "image/jpeg") -> str:
    """The key of a fresh upload form (nothing uploaded yet)."""
    status, _, form = AVATAR.request_upload(content_type)
    assert status == 200
    key: str = form["fields"]["key"]
    return key


def published_keys() -> set[str]:
    avatar = avatar_of()
    return {key_of_url(avatar["url"]), key_of_url(avatar["thumbnail_url"])}


def validator(store: AvatarStore | None = None) -> AvatarValidator:
    """A validator of its own, as another container would have."""
    settings = get_settings()
    storage = AvatarStorage.from_settings(s3_client(), settings, serving=True)
    return AvatarValidator(store or AvatarStore(Table(dynamodb_client(), settings.table_name)), storage, images.inspect)


class StaleStore(AvatarStore):
    """Reads the profile as it was at some earlier moment (a read that raced a write)."""

    def __init__(self, snapshot: dict[str, Any] | None) -> None:
        super().__init__(Table(dynamodb_client(), get_settings().table_name))
        self.snapshot = Account.from_item(snapshot) if snapshot else None

    def get(self, sub: str) -> Account | None:
        return self.snapshot


def profile_item() -> dict[str, Any]:
    item = table.item(f"ACCOUNT#{SUB}", "PROFILE")
    assert item is not None
    return item


# ------------------------------------------------------------------ the corpus


@pytest.mark.parametrize(
    ("data", "content_type", "size"),
    [
        pytest.param(corpus.photo_jpeg(), "image/jpeg", (40, 60), id="JPEG with EXIF orientation and GPS"),
        pytest.param(corpus.photo_png(), "image/png", (40, 60), id="PNG with EXIF and text"),
        pytest.param(corpus.encode(corpus.halves(), "PNG"), "image/jpeg", (60, 40), id="PNG renamed to .jpg"),
    ],
)
def test_valid_images_are_published(data: bytes, content_type: str, size: tuple[int, int]) -> None:
    key = requested(content_type)
    put_upload(key, data, content_type)
    assert deliver(key) == {"outcomes": {"published": 1}}
    avatar = avatar_of()
    assert avatar["status"] == "ready"
    assert bucket_keys() == published_keys()
    assert stored_avatar()["upload"] == keys.parse_upload_key(key).upload_id  # type: ignore[union-attr]


@pytest.mark.parametrize("name", list(corpus.invalid_uploads()))
def test_invalid_uploads_are_rejected_with_a_reason_and_leave_nothing_behind(name: str) -> None:
    # Given an upload of an invalid file (moto takes anything a form allows or not)
    data, content_type, code = corpus.invalid_uploads()[name]
    key = requested(content_type)
    put_upload(key, data, content_type)

    # When S3 notifies the validator
    assert deliver(key) == {"outcomes": {"rejected": 1}}

    # Then the owner sees why, the upload is deleted and nothing was published
    avatar = avatar_of()
    assert avatar["status"] == "rejected"
    assert avatar["url"] is None
    assert avatar["rejection_reason"]
    assert stored_avatar()["rejection_code"] == code
    assert bucket_keys() == set()


def test_an_oversized_upload_is_rejected_without_being_read() -> None:
    key = requested()
    put_upload(key, b"\xff\xd8\xff" + bytes(20 * 1024 * 1024))
    reads: list[Any] = []
    storage = AvatarStorage.from_settings(s3_client(), serving=True)
    original = storage.read

    def read(key: str, limit: int) -> Any:
        reads.append(original(key, limit))
        return reads[-1]

    storage.read = read  # type: ignore[method-assign]
    check = validator()
    check.storage = storage
    assert check.handle(key) is Outcome.REJECTED
    assert reads[0].data == b""  # only its size was looked at
    assert stored_avatar()["rejection_code"] == "too-large"


# ------------------------------------------------------------------ repeated and late events


def test_the_same_event_twice_gives_one_avatar() -> None:
    key = AVATAR.upload(corpus.photo_jpeg())
    first = avatar_of()
    assert deliver(key) == {"outcomes": {"duplicate": 1}}
    assert avatar_of() == first
    assert bucket_keys() == published_keys()


def test_an_event_for_an_upload_that_is_gone_changes_nothing() -> None:
    # e.g. the upload expired, or the event is older than the erasure of the upload
    key = requested()
    assert deliver(key) == {"outcomes": {"gone": 1}}
    assert avatar_of()["status"] == "pending"
    assert bucket_keys() == set()


def test_a_repeated_event_while_the_upload_is_still_there_changes_nothing() -> None:
    # Given an upload published, and its object back (a repeat that raced the first run's cleanup)
    key = AVATAR.upload(corpus.photo_jpeg())
    first = avatar_of()
    put_upload(key, corpus.photo_jpeg())
    # When the event comes again
    assert deliver(key) == {"outcomes": {"duplicate": 1}}
    # Then the avatar is the same and the upload is cleaned up
    assert avatar_of() == first
    assert bucket_keys() == published_keys()


def test_an_upload_finishing_after_a_newer_one_never_replaces_it() -> None:
    # Given two forms, the older one's upload finishing last
    older, newer = requested(), requested("image/png")
    put_upload(older, corpus.photo_jpeg())
    put_upload(newer, corpus.photo_png(), "image/png")
    assert deliver(newer) == {"outcomes": {"published": 1}}
    newest = avatar_of()
    # When the older upload's event arrives
    assert deliver(older) == {"outcomes": {"superseded": 1}}
    # Then the newer avatar stays, and the older upload is deleted unpublished
    assert avatar_of() == newest
    assert newest["url"].endswith("/avatar.png")
    assert bucket_keys() == published_keys()


def test_an_older_invalid_upload_arriving_late_does_not_show_a_rejection() -> None:
    older, newer = requested(), requested()
    put_upload(older, b"not an image")
    put_upload(newer, corpus.photo_jpeg())
    deliver(newer)
    assert deliver(older) == {"outcomes": {"superseded": 1}}
    assert avatar_of()["status"] == "ready"
    assert bucket_keys() == published_keys()


def test_events_in_issue_order_each_replace_the_previous_avatar() -> None:
    older, newer = requested(), requested()
    put_upload(older, corpus.photo_jpeg())
    put_upload(newer, corpus.photo_jpeg(size=(80, 50)))
    assert deliver(older) == {"outcomes": {"published": 1}}
    assert deliver(newer) == {"outcomes": {"published": 1}}
    assert stored_avatar()["upload"] == keys.parse_upload_key(newer).upload_id  # type: ignore[union-attr]
    assert bucket_keys() == published_keys()  # the older avatar's objects are gone


def test_a_validator_that_read_before_a_newer_decision_loses_and_cleans_up() -> None:
    # Given a validator that read the profile before a newer upload was decided
    older, newer = requested(), requested()
    put_upload(older, corpus.photo_jpeg())
    put_upload(newer, corpus.photo_png(), "image/png")
    stale = validator(StaleStore(profile_item()))
    assert deliver(newer) == {"outcomes": {"published": 1}}
    # When it processes the older upload (it publishes, then its compare-and-set fails)
    assert stale.handle(older) is Outcome.SUPERSEDED
    # Then the newer avatar stays and nothing of the older upload is left
    assert avatar_of()["url"].endswith("/avatar.png")
    assert bucket_keys() == published_keys()


def test_a_validator_that_read_before_an_older_decision_retries_and_wins() -> None:
    older, newer = requested(), requested()
    put_upload(older, corpus.photo_jpeg())
    put_upload(newer, corpus.photo_png(), "image/png")
    stale = validator(StaleStore(profile_item()))
    assert deliver(older) == {"outcomes": {"published": 1}}
    assert stale.handle(newer) is Outcome.PUBLISHED
    assert avatar_of()["url"].endswith("/avatar.png")
    assert bucket_keys() == published_keys()  # the older avatar was swept


def test_concurrent_validators_converge_on_the_newest_upload() -> None:
    # Given three uploads processed at the same time, each by its own container
    uploads = [requested() for _ in range(3)]
    for key in uploads:
        put_upload(key, corpus.photo_jpeg())
    validators = [validator() for _ in uploads]
    start = threading.Barrier(len(uploads))
    outcomes: dict[str, Outcome] = {}

    def run(check: AvatarValidator, key: str) -> None:
        start.wait()
        outcomes[key] = check.handle(key)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(validators, uploads, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then the newest one is the avatar whatever the interleaving, and nothing else is left
    assert outcomes[uploads[-1]] is Outcome.PUBLISHED
    assert stored_avatar()["upload"] == keys.parse_upload_key(uploads[-1]).upload_id  # type: ignore[union-attr]
    assert bucket_keys() == published_keys()


def test_the_same_event_delivered_twice_at_once_gives_one_avatar() -> None:
    key = requested()
    put_upload(key, corpus.photo_jpeg())
    checks = [validator(), validator()]
    start = threading.Barrier(2)
    outcomes: list[Outcome] = []

    def run(check: AvatarValidator) -> None:
        start.wait()
        outcomes.append(check.handle(key))

    threads = [threading.Thread(target=run, args=(check,)) for check in checks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(Outcome.PUBLISHED) == 1
    assert set(outcomes) <= {Outcome.PUBLISHED, Outcome.DUPLICATE, Outcome.GONE}
    assert avatar_of()["status"] == "ready"
    assert bucket_keys() == published_keys()


# ------------------------------------------------------------------ accounts that are gone


def test_an_upload_of_a_deleted_account_is_deleted_and_recreates_nothing() -> None:
    key = requested()
    put_upload(key, corpus.photo_jpeg())
    assert ADA.delete("ada_lovelace")[0] == 204
    put_upload(key, corpus.photo_jpeg())  # the upload lands after the erasure
    assert deliver(key) == {"outcomes": {"orphaned": 1}}
    assert bucket_keys() == set()
    assert table.item(f"ACCOUNT#{SUB}", "PROFILE") is None
    assert table.item(f"ACCOUNT#{SUB}", "TOMBSTONE") is not None


def test_an_upload_for_no_account_at_all_is_deleted() -> None:
    key = keys.upload_key("never-signed-up", keys.new_upload_id())
    put_upload(key, corpus.photo_jpeg())
    assert deliver(key) == {"outcomes": {"orphaned": 1}}
    assert bucket_keys() == set()


def test_an_upload_issued_before_the_account_existed_belongs_to_an_earlier_account() -> None:
    # Given an account deleted and created again, and an upload of the first account landing now
    created = datetime.fromisoformat(profile_item()["created_at"])
    before = int((created - timedelta(minutes=1)).timestamp() * 1000)
    key = keys.upload_key(SUB, keys.new_upload_id(before))
    put_upload(key, corpus.photo_jpeg())
    assert deliver(key) == {"outcomes": {"orphaned": 1}}
    assert avatar_of()["status"] == "none"
    assert bucket_keys() == set()


def test_an_account_deleted_while_its_upload_is_checked_keeps_nothing() -> None:
    # Given a validator that read the account while it was active
    key = requested()
    put_upload(key, corpus.photo_jpeg())
    stale = validator(StaleStore(profile_item()))
    boto3.client("dynamodb").update_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"PK": {"S": f"ACCOUNT#{SUB}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET #s = :deleting",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":deleting": {"S": "deleting"}},
    )
    # When it decides, the account is being deleted: what it published goes too
    assert stale.handle(key) is Outcome.ORPHANED
    assert bucket_keys() == set()
    assert "avatar" not in profile_item()


# ------------------------------------------------------------------ none of its business


def test_objects_outside_uploads_are_ignored() -> None:
    key = AVATAR.upload(corpus.photo_jpeg())
    published = published_keys()
    for other in published:
        assert deliver(other) == {"outcomes": {"ignored": 1}}
    assert bucket_keys() == published
    assert key not in bucket_keys()


def test_events_of_other_buckets_and_other_event_types_are_ignored() -> None:
    key = requested()
    put_upload(key, corpus.photo_jpeg())
    assert deliver(key, bucket="someone-elses-bucket") == {"outcomes": {}}
    assert deliver(key, event_name="ObjectRemoved:Delete") == {"outcomes": {}}
    assert key in bucket_keys()
    assert avatar_of()["status"] == "pending"


def test_the_test_event_s3_sends_when_notifications_are_set_up_is_ignored() -> None:
    event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": os.environ["AVATAR_BUCKET"]}
    assert avatar_validator.lambda_handler(event, LambdaContext()) == {"outcomes": {}}


def test_keys_are_url_decoded_as_s3_and_moto_encode_them() -> None:
    # S3 encodes a space as "+" and moto encodes "/" too; a subject may hold both
    sub = "user one+two/three"
    ProfileClient(sub).create("user_two")
    client = AvatarClient(sub)
    status, _, form = client.request_upload()
    assert status == 200
    key = form["fields"]["key"]
    assert key.startswith("uploads/user%20one%2Btwo%2Fthree/")
    put_upload(key, corpus.photo_jpeg())
    event = s3_event(key, encode="")
    assert "%2F" in event["Records"][0]["s3"]["object"]["key"]
    assert avatar_validator.lambda_handler(event, LambdaContext()) == {"outcomes": {"published": 1}}
    assert avatar_of(ProfileClient(sub))["status"] == "ready"


def test_the_sample_event_is_what_the_handler_reads() -> None:
    event = s3_event("uploads/x/y")
    record = event["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["s3"]["object"]["key"] == "uploads/x/y"
    assert datetime.fromisoformat(record["eventTime"]) < datetime.now(UTC)


# ------------------------------------------------------------------ bounded work


def test_an_upload_that_outlasts_the_time_budget_is_rejected_and_cleaned_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a decoder slower than the validator's time budget (one that cannot be interrupted)
    release = threading.Event()
    real_decode = images.decode

    def slow_decode(data: bytes, kind: str) -> Any:
        release.wait(timeout=60)
        return real_decode(data, kind)

    monkeypatch.setattr(images, "decode", slow_decode)
    key = requested()
    put_upload(key, corpus.photo_jpeg())
    check = validator()
    check.time_budget = 0.01

    # When the upload is checked
    try:
        outcome = check.handle(key)
    finally:
        release.set()

    # Then it is rejected as too complex, not left pending, and the upload is gone
    assert outcome is Outcome.REJECTED
    avatar = avatar_of()
    assert avatar["status"] == "rejected"
    assert avatar["rejection_reason"] == validation.TOO_COMPLEX.reason
    assert stored_avatar()["rejection_code"] == "too-complex"
    assert bucket_keys() == set()


def test_the_function_checks_uploads_within_its_time_budget() -> None:
    assert avatar_validator.validator().time_budget == validation.INSPECTION_SECONDS


def test_the_scan_bomb_is_rejected_through_the_function() -> None:
    key = requested()
    put_upload(key, corpus.progressive_scan_bomb())
    assert deliver(key) == {"outcomes": {"rejected": 1}}
    avatar = avatar_of()
    assert avatar["status"] == "rejected"
    assert "progressive" in avatar["rejection_reason"]
    assert bucket_keys() == set()


def test_a_progressive_photo_is_published_through_the_function() -> None:
    key = requested()
    put_upload(key, corpus.progressive_photo())
    assert deliver(key) == {"outcomes": {"published": 1}}
    assert avatar_of()["status"] == "ready"
