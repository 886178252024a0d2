"""Account deletion erases every avatar object of the account, and no one else's."""

from __future__ import annotations

from typing import Any

import pytest

from account_billing.avatars import storage
from account_billing.avatars.storage import s3_client
from account_billing.core.settings import get_settings
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client
from account_billing.deletion.steps import erasure_steps
from tests.support import corpus
from tests.support.avatars import AvatarClient, bucket_keys, put_upload
from tests.support.profile import ProfileClient

pytestmark = pytest.mark.usefixtures("aws")


def test_deleting_an_account_deletes_its_uploads_and_avatars_and_no_one_elses() -> None:
    # Given an account with a published avatar, a rejected upload's leftovers and an upload not
    # yet checked; and another account whose subject starts with the same characters
    ada, ada_avatar = ProfileClient("user-1"), AvatarClient("user-1")
    other, other_avatar = ProfileClient("user-10"), AvatarClient("user-10")
    ada.create("ada_lovelace")
    other.create("grace_hopper")
    ada_avatar.upload(corpus.photo_jpeg())
    ada_avatar.upload(corpus.photo_png(), "image/png")
    pending = ada_avatar.upload(corpus.photo_jpeg(), notify=False)
    other_avatar.upload(corpus.photo_jpeg())
    others = {key for key in bucket_keys() if "/user-10/" in key}
    assert len(others) == 2
    assert pending in bucket_keys()

    # When the first account is deleted
    assert ada.delete("ada_lovelace")[0] == 204

    # Then none of its objects remain, and the other account's avatar is untouched
    assert bucket_keys() == others
    assert other.get()[2]["avatar"]["status"] == "ready"


def test_the_avatar_step_runs_before_the_accounts_step() -> None:
    names = [step.name for step in erasure_steps(Table(dynamodb_client(), get_settings().table_name))]
    assert names.index("avatars") < names.index("account")
    assert names[-1] == "account"


def test_erasure_deletes_in_as_many_requests_as_it_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    # DeleteObjects takes 1000 keys a call; with 2 a call, five objects need three calls
    monkeypatch.setattr(storage, "MAX_DELETE", 2)
    calls: list[int] = []
    client = s3_client()
    original = client.delete_objects

    def counted(**kwargs: Any) -> Any:
        calls.append(len(kwargs["Delete"]["Objects"]))
        return original(**kwargs)

    monkeypatch.setattr(client, "delete_objects", counted)
    ProfileClient("user-1").create("ada_lovelace")
    for index in range(5):
        put_upload(f"uploads/user-1/{index:028x}", b"x")
    assert ProfileClient("user-1").delete("ada_lovelace")[0] == 204
    assert bucket_keys() == set()
    assert calls == [2, 2, 1]
