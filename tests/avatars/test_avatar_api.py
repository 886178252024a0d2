"""The avatar function end to end through its handler, against moto (S3 and DynamoDB).

moto accepts any upload to a presigned POST (wrong size, type or signature), so the policy
itself is decoded and checked here; the validator checks the bytes anyway.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import ExifTags, Image

from account_billing.avatars.policy import MAX_BYTES
from account_billing.core.wiring import reset_containers
from tests.support import corpus, table
from tests.support.avatars import AvatarClient, bucket_keys, deliver, get_object, key_of_url, put_upload
from tests.support.profile import ProfileClient

pytestmark = pytest.mark.usefixtures("aws")

SUB = "6c1f0e2a-5d1b-4a8e-9b9e-2f4d8c7a1e01"
ADA = ProfileClient(SUB)
AVATAR = AvatarClient(SUB)


def policy_of(form: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(base64.b64decode(form["fields"]["policy"]))
    return document


def problem_type(body: dict[str, Any]) -> str:
    return str(body["type"]).rsplit(":", 1)[-1]


def avatar_of(client: ProfileClient = ADA) -> dict[str, Any]:
    status, _, body = client.get()
    assert status == 200
    avatar: dict[str, Any] = body["avatar"]
    return avatar


@pytest.fixture(autouse=True)
def account(aws: dict[str, str]) -> None:
    status, _, _ = ADA.create("ada_lovelace", first_name="Ada", last_name="Lovelace")
    assert status == 201


# ------------------------------------------------------------------ the upload form


def test_the_upload_form_is_a_presigned_post_bounded_in_size_type_key_and_time() -> None:
    # When the caller asks for a form to upload a JPEG
    before = datetime.now(UTC)
    status, headers, form = AVATAR.request_upload("image/jpeg")

    # Then the form posts to the avatar bucket, under a fresh key of the caller's uploads
    assert status == 200
    assert headers["cache-control"] == "no-store"
    bucket = os.environ["AVATAR_BUCKET"]
    assert form["url"] == f"https://{bucket}.s3.eu-west-1.amazonaws.com/"
    assert (form["method"], form["enctype"], form["file_field"]) == ("POST", "multipart/form-data", "file")
    key = form["fields"]["key"]
    assert key == f"uploads/{SUB}/{form['upload_id']}"
    assert form["fields"]["Content-Type"] == "image/jpeg"
    assert form["max_bytes"] == MAX_BYTES == 20 * 1024 * 1024

    # And the signed policy allows 1 byte to 20 MB, exactly that key and that type, for minutes
    policy = policy_of(form)
    conditions = policy["conditions"]
    assert ["content-length-range", 1, MAX_BYTES] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"bucket": bucket} in conditions
    assert {"key": key} in conditions
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]  # nothing open-ended
    expiration = datetime.fromisoformat(policy["expiration"])
    assert before + timedelta(minutes=4) < expiration <= datetime.now(UTC) + timedelta(minutes=5)
    assert abs(datetime.fromisoformat(form["expires_at"]) - expiration) < timedelta(seconds=2)
    assert form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert form["fields"]["x-amz-signature"]


def test_a_png_form_allows_only_png() -> None:
    _, _, form = AVATAR.request_upload("image/png")
    assert {"Content-Type": "image/png"} in policy_of(form)["conditions"]
    assert {"Content-Type": "image/jpeg"} not in policy_of(form)["conditions"]


def test_every_form_gets_its_own_key() -> None:
    keys = {AVATAR.request_upload()[2]["fields"]["key"] for _ in range(3)}
    assert len(keys) == 3


@pytest.mark.parametrize("content_type", ["image/gif", "image/svg+xml", "text/html", "", None, 7])
def test_other_types_are_refused_and_nothing_is_recorded(content_type: Any) -> None:
    status, _, body = AVATAR.request_upload(content_type)
    assert status == 422
    assert body["errors"][0]["pointer"] == "#/content_type"
    assert "avatar_upload" not in (table.item(f"ACCOUNT#{SUB}", "PROFILE") or {})


def test_without_an_account_there_is_no_form() -> None:
    status, _, body = AvatarClient("no-such-account").request_upload()
    assert status == 404
    assert problem_type(body) == "account-not-found"


def test_without_a_token_there_is_no_form() -> None:
    status, _, _ = AvatarClient(None).request_upload()
    assert status == 401


def test_once_a_form_is_issued_the_avatar_shows_as_pending_to_its_owner_only() -> None:
    AVATAR.request_upload()
    assert avatar_of()["status"] == "pending"
    ADA.set_visibility("public")
    status, _, public = ADA.public("ada_lovelace")
    assert status == 200
    assert public["avatar"]["status"] == "none"


# ------------------------------------------------------------------ how many forms


@pytest.fixture
def forms_per_hour(monkeypatch: pytest.MonkeyPatch) -> int:
    """The avatar function configured (as the template's parameter does) for 3 forms an hour."""
    monkeypatch.setenv("AVATAR_FORMS_PER_HOUR", "3")
    reset_containers()
    return 3


def test_past_the_hourly_limit_a_form_is_refused_with_when_to_retry(forms_per_hour: int) -> None:
    # Given an account that asked for as many forms as an hour allows
    issued = [AVATAR.request_upload() for _ in range(forms_per_hour)]
    assert [status for status, _, _ in issued] == [200] * forms_per_hour
    pending = table.item(f"ACCOUNT#{SUB}", "PROFILE")["avatar_upload"]  # type: ignore[index]

    # When it asks for one more
    status, headers, body = AVATAR.request_upload()

    # Then it is told to wait until the hour is over, and nothing changed
    assert status == 429
    assert problem_type(body) == "too-many-requests"
    retry_after = int(headers["retry-after"])
    now = datetime.now(UTC)
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert 1 <= retry_after <= (next_hour - now).total_seconds() + 2
    assert body["retry_after"] == retry_after
    assert f"At most {forms_per_hour} avatar uploads an hour" in body["detail"]
    assert table.item(f"ACCOUNT#{SUB}", "PROFILE")["avatar_upload"] == pending  # type: ignore[index]


def test_the_limit_is_per_account(forms_per_hour: int) -> None:
    for _ in range(forms_per_hour):
        AVATAR.request_upload()
    assert AVATAR.request_upload()[0] == 429
    other = ProfileClient("7d2a1f3b-0000-4000-8000-000000000002")
    assert other.create("grace_hopper")[0] == 201
    assert AvatarClient(other.sub).request_upload()[0] == 200


def test_concurrent_requests_never_get_more_forms_than_the_limit(forms_per_hour: int) -> None:
    # Given twice as many requests as the limit, all at once
    start = threading.Barrier(2 * forms_per_hour)
    statuses: list[int] = []

    def ask() -> None:
        start.wait()
        statuses.append(AVATAR.request_upload()[0])

    threads = [threading.Thread(target=ask) for _ in range(2 * forms_per_hour)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly the limit got a form, and the counter says so
    assert sorted(statuses) == [200] * forms_per_hour + [429] * forms_per_hour
    (counter,) = [item for item in table.all_items() if item["PK"] == f"LIMIT#avatar-form#{SUB}"]
    assert counter["count"] == forms_per_hour


def test_the_default_limit_is_twenty_forms_an_hour() -> None:
    statuses = [AVATAR.request_upload()[0] for _ in range(21)]
    assert statuses == [200] * 20 + [429]


# ------------------------------------------------------------------ upload, publish, see


def test_a_browser_upload_becomes_the_avatar_without_its_metadata() -> None:
    # Given a form, when the browser posts a phone photo with it and S3 notifies the validator
    key = AVATAR.upload(corpus.photo_jpeg())

    # Then the profile shows the avatar at the CDN, and the public profile shows it too
    avatar = avatar_of()
    assert avatar["status"] == "ready"
    assert avatar["rejection_reason"] is None
    assert avatar["url"].startswith(os.environ["AVATAR_BASE_URL"] + "/avatars/")
    ADA.set_visibility("public")
    assert ADA.public("ada_lovelace")[2]["avatar"]["url"] == avatar["url"]

    # And the published objects are upright, cacheable forever, and carry no location
    published = get_object(key_of_url(avatar["url"]))
    assert published["ContentType"] == "image/jpeg"
    assert published["CacheControl"] == "public, max-age=31536000, immutable"
    image = Image.open(published["Body"])
    assert image.size == (40, 60)
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert get_object(key_of_url(avatar["thumbnail_url"]))["ContentType"] == "image/jpeg"

    # And the upload itself is gone: only the two published objects remain
    assert key not in bucket_keys()
    assert bucket_keys() == {key_of_url(avatar["url"]), key_of_url(avatar["thumbnail_url"])}


def test_a_new_avatar_replaces_the_old_one_under_a_new_url() -> None:
    AVATAR.upload(corpus.photo_jpeg())
    first = avatar_of()
    AVATAR.upload(corpus.photo_png(), "image/png")
    second = avatar_of()
    assert second["status"] == "ready"
    assert second["url"] != first["url"]
    assert second["url"].endswith("/avatar.png")
    assert bucket_keys() == {key_of_url(second["url"]), key_of_url(second["thumbnail_url"])}


def test_a_rejected_upload_leaves_the_avatar_in_use_and_says_why() -> None:
    AVATAR.upload(corpus.photo_jpeg())
    in_use = avatar_of()
    key = AVATAR.upload(b"GIF89a not really", "image/png")
    avatar = avatar_of()
    assert avatar["status"] == "rejected"
    assert avatar["rejection_reason"] == "The file is not a JPEG or PNG image."
    assert avatar["url"] == in_use["url"]  # still shown
    assert key not in bucket_keys()
    assert bucket_keys() == {key_of_url(in_use["url"]), key_of_url(in_use["thumbnail_url"])}


# ------------------------------------------------------------------ removal


def test_removing_the_avatar_deletes_it_and_the_profile_shows_initials() -> None:
    AVATAR.upload(corpus.photo_jpeg())
    status, headers, body = AVATAR.remove()
    assert (status, body) == (204, None)
    assert headers["cache-control"] == "no-store"
    assert avatar_of() == {
        "status": "none",
        "url": None,
        "thumbnail_url": None,
        "initials": "AL",
        "rejection_reason": None,
    }
    assert bucket_keys() == set()


def test_removing_also_clears_a_rejection() -> None:
    AVATAR.upload(b"not an image", "image/png")  # S3 refuses an empty file (content-length-range)
    assert avatar_of()["status"] == "rejected"
    assert AVATAR.remove()[0] == 204
    assert avatar_of()["status"] == "none"
    assert avatar_of()["rejection_reason"] is None


def test_removing_when_there_is_no_avatar_changes_nothing() -> None:
    assert AVATAR.remove()[0] == 204
    assert AVATAR.remove()[0] == 204
    assert avatar_of()["status"] == "none"
    assert "avatar" not in (table.item(f"ACCOUNT#{SUB}", "PROFILE") or {})


def test_a_removed_avatar_does_not_come_back_from_a_repeated_event() -> None:
    # Given an avatar published and then removed
    key = AVATAR.upload(corpus.photo_jpeg())
    AVATAR.remove()
    # When S3 delivers the upload's event again, the upload still there (at-least-once delivery)
    put_upload(key, corpus.photo_jpeg())
    assert deliver(key) == {"outcomes": {"duplicate": 1}}
    # Then the avatar stays removed and nothing is left in the bucket
    assert avatar_of()["status"] == "none"
    assert bucket_keys() == set()


def test_removal_needs_an_account() -> None:
    status, _, body = AvatarClient("no-such-account").remove()
    assert status == 404
    assert problem_type(body) == "account-not-found"
    assert AvatarClient(None).remove()[0] == 401
