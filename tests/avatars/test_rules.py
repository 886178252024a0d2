"""Pure rules: upload ids and keys, the stored avatar and what callers see of it, the POST policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from account_billing.accounts.records import Account
from account_billing.accounts.views import avatar_view
from account_billing.avatars import keys, state
from account_billing.avatars.policy import CONTENT_TYPES, MAX_BYTES, post_conditions

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_upload_ids_sort_by_the_time_they_were_issued() -> None:
    earlier = keys.new_upload_id(1_795_874_400_000)
    later = keys.new_upload_id(1_795_874_400_001)
    assert earlier < later
    assert keys.is_upload_id(earlier)
    assert keys.is_upload_id(later)
    assert keys.issued_at(earlier) == datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    assert keys.new_upload_id(5) != keys.new_upload_id(5)  # 64 random bits tell apart ids of one millisecond


def test_an_upload_key_names_its_account_and_upload() -> None:
    upload_id = keys.new_upload_id()
    key = keys.upload_key("6c1f0e2a-5d1b", upload_id)
    assert key == f"uploads/6c1f0e2a-5d1b/{upload_id}"
    assert keys.parse_upload_key(key) == keys.Upload(key=key, sub="6c1f0e2a-5d1b", upload_id=upload_id)


def test_a_subject_with_a_slash_stays_one_path_segment() -> None:
    # Without encoding, "a" would own a prefix of "a/b"'s objects.
    upload_id = keys.new_upload_id()
    key = keys.upload_key("a/b", upload_id)
    assert key == f"uploads/a%2Fb/{upload_id}"
    assert not key.startswith(keys.upload_prefix("a"))
    parsed = keys.parse_upload_key(key)
    assert parsed is not None
    assert parsed.sub == "a/b"


@pytest.mark.parametrize(
    "key",
    [
        "avatars/user-1/0193aaaaaaaa0000000000000000/avatar.jpg",
        "uploads/user-1/not-an-id",
        "uploads/user-1/",
        "uploads//0193aaaaaaaa0000000000000000",
        "uploads/user-1/0193aaaaaaaa0000000000000000/extra",
        "uploads/a/b/0193aaaaaaaa0000000000000000",  # a raw slash is never one of our keys
        "elsewhere/uploads/user-1/0193aaaaaaaa0000000000000000",
    ],
)
def test_keys_that_are_not_uploads_are_not_parsed(key: str) -> None:
    assert keys.parse_upload_key(key) is None


def test_published_keys_carry_their_upload_id() -> None:
    key = keys.published_key("user-1", "0193aaaaaaaa0000000000000000", "avatar.jpg")
    assert key == "avatars/user-1/0193aaaaaaaa0000000000000000/avatar.jpg"
    assert keys.published_version("user-1", key) == "0193aaaaaaaa0000000000000000"
    assert keys.published_version("user-10", key) is None
    assert keys.published_version("user-1", "avatars/user-1/junk/avatar.jpg") is None


def test_the_post_policy_allows_up_to_20_mb_of_exactly_the_declared_type() -> None:
    assert MAX_BYTES == 20 * 1024 * 1024
    assert CONTENT_TYPES == ("image/jpeg", "image/png")
    assert post_conditions("image/png") == [["content-length-range", 1, MAX_BYTES], {"Content-Type": "image/png"}]
    with pytest.raises(ValueError, match="unsupported"):
        post_conditions("image/gif")


def profile(**attributes: object) -> Account:
    """Ada's account as stored, with the avatar attributes given."""
    return Account.from_item(
        {
            "sub": "user-ada",
            "user_id": "ada_lovelace",
            "user_id_key": "ada_lovelace",
            "visibility": "public",
            "status": "active",
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z",
            "version": 1,
            "first_name": "Ada",
            "last_name": "Lovelace",
            **attributes,
        }
    )


READY = state.published("0193aaaaaaaa0000000000000001", "https://cdn/a.jpg", "https://cdn/t.jpg", ["a", "t"], "x")


def test_without_any_upload_the_profile_shows_initials() -> None:
    view = avatar_view(profile(), now=NOW)
    assert (view.status, view.url, view.initials) == ("none", None, "AL")


def test_a_requested_upload_is_pending_until_it_is_decided_or_expires() -> None:
    requested = {"id": "0193aaaaaaaa0000000000000002", "pending_until": iso(NOW + timedelta(minutes=5))}
    item = profile(avatar=READY, avatar_upload=requested)
    pending = avatar_view(item, now=NOW)
    assert pending.status == "pending"
    assert pending.url == "https://cdn/a.jpg"  # the avatar in use stays visible meanwhile
    assert avatar_view(item, now=NOW + timedelta(minutes=6)).status == "ready"  # abandoned: expired
    decided = state.rejected(READY, requested["id"], "damaged", "The image is damaged.", "y")
    assert avatar_view(profile(avatar=decided, avatar_upload=requested), now=NOW).status == "rejected"


def test_an_older_request_never_shows_as_pending_over_a_newer_decision() -> None:
    requested = {"id": "0193aaaaaaaa0000000000000000", "pending_until": iso(NOW + timedelta(minutes=5))}
    assert avatar_view(profile(avatar=READY, avatar_upload=requested), now=NOW).status == "ready"


def test_a_rejection_keeps_the_avatar_in_use_and_tells_why() -> None:
    avatar = state.rejected(READY, "0193aaaaaaaa0000000000000002", "extra-data", "Extra data.", "y")
    view = avatar_view(profile(avatar=avatar), now=NOW)
    assert (view.status, view.url, view.rejection_reason) == ("rejected", "https://cdn/a.jpg", "Extra data.")
    assert state.objects_in_use(avatar) == {"a", "t"}
    assert state.decided_upload(avatar) == "0193aaaaaaaa0000000000000002"


def test_the_public_sees_only_the_image_in_use() -> None:
    requested = {"id": "0193aaaaaaaa0000000000000003", "pending_until": iso(NOW + timedelta(minutes=5))}
    rejected = state.rejected(READY, "0193aaaaaaaa0000000000000002", "damaged", "Damaged.", "y")
    view = avatar_view(profile(avatar=rejected, avatar_upload=requested), public=True, now=NOW)
    assert (view.status, view.url, view.rejection_reason) == ("ready", "https://cdn/a.jpg", None)
    nothing = state.rejected({}, "0193aaaaaaaa0000000000000002", "damaged", "Damaged.", "y")
    assert avatar_view(profile(avatar=nothing), public=True, now=NOW).status == "none"


def test_only_newer_uploads_may_be_decided() -> None:
    assert state.is_newer("0193aaaaaaaa0000000000000002", READY)
    assert not state.is_newer("0193aaaaaaaa0000000000000001", READY)  # the same upload again
    assert not state.is_newer("0193aaaaaaaa0000000000000000", READY)  # an older one, late
    assert state.is_newer("0193aaaaaaaa0000000000000000", {})
