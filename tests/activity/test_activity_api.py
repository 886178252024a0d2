"""The activity log through the profile function: what a user sees of the changes to their account."""

from __future__ import annotations

from typing import Any

import pytest

from account_billing.core.clock import epoch_seconds, parse_timestamp
from tests.activity import support
from tests.support import table
from tests.support.profile import ProfileClient

pytestmark = pytest.mark.usefixtures("aws")

ADA = ProfileClient("sub-ada")


def activity(sub: str = "sub-ada", **query: str) -> tuple[int, Any]:
    return support.activity(sub, **query)


def kinds(body: Any) -> list[str]:
    return [entry["kind"] for entry in body["entries"]]


def test_each_change_is_logged_once_newest_first_with_the_request_it_came_from() -> None:
    assert ADA.create("ada")[0] == 201
    assert ADA.patch({"first_name": "Ada", "location": "London"})[0] == 200
    assert ADA.change_user_id("countess")[0] == 200
    assert ADA.set_visibility("public")[0] == 200

    status, body = activity()

    assert status == 200
    assert kinds(body) == ["visibility.changed", "user_id.changed", "profile.updated", "account.created"]
    renamed = body["entries"][1]
    assert renamed["details"] == {"user_id": "countess", "previous_user_id": "ada"}
    assert renamed["actor"] == "user"
    assert (renamed["source_ip"], renamed["user_agent"]) == ("203.0.113.7", "Mozilla/5.0")
    assert body["entries"][2]["details"] == {"fields": "first_name,location"}  # the names, not the values
    assert body["next_cursor"] is None


def test_the_log_pages_with_a_cursor_and_filters_by_kind() -> None:
    assert ADA.create("ada")[0] == 201
    for visibility in ("public", "private", "public"):
        assert ADA.set_visibility(visibility)[0] == 200
    assert ADA.change_user_id("countess")[0] == 200

    _, first = activity(limit="2")
    _, second = activity(limit="2", cursor=first["next_cursor"])
    _, renames = activity(kind="user_id.changed,account.created")

    assert kinds(first) == ["user_id.changed", "visibility.changed"]
    assert kinds(second) == ["visibility.changed", "visibility.changed"]
    assert kinds(renames) == ["user_id.changed", "account.created"]


def test_a_change_that_fails_logs_nothing() -> None:
    assert ADA.create("ada")[0] == 201
    assert ProfileClient("sub-bob").create("bob")[0] == 201

    assert ADA.change_user_id("bob")[0] == 409  # taken

    assert kinds(activity()[1]) == ["account.created"]


def test_one_account_never_sees_anothers_log_and_bad_input_is_a_4xx() -> None:
    assert ADA.create("ada")[0] == 201
    _, ada_page = activity(limit="1")

    assert activity("sub-bob")[1]["entries"] == []
    assert activity("sub-bob", cursor="bm90LW91cnM")[0] == 400
    assert activity(kind="not.a.kind")[0] == 422
    assert activity(limit="0")[0] == 422
    assert ada_page["next_cursor"] is None


def test_entries_expire_after_the_retention_and_go_with_the_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIVITY_RETENTION_DAYS", "30")
    assert ADA.create("ada")[0] == 201
    [entry] = [i for i in table.all_items() if i.get("entity") == "activity"]
    created_at = table.item("ACCOUNT#sub-ada", "PROFILE")["created_at"]  # type: ignore[index]

    assert entry["expires_at"] - epoch_seconds(parse_timestamp(created_at)) == pytest.approx(30 * 86_400, abs=5)

    assert ADA.delete("ada")[0] == 204

    assert [i for i in table.all_items() if i.get("entity") == "activity"] == []
