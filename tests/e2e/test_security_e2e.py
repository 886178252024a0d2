"""The local stack carries security notices and the activity log: a User ID change through the
HTTP API is in the caller's activity log, and its notice, delivered by the local EventBridge to the
notices function, is in /_local/mailbox."""

from __future__ import annotations

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Caller, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_a_user_id_change_is_logged_and_its_notice_reaches_the_mailbox(
    stack: LocalStack, api: httpx.Client, caller: Caller, account: httpx.Response
) -> None:
    address = f"{caller.sub}@example.com"  # the local token's verified email: the primary

    changed = api.put("/v1/account/user-id", json={"user_id": f"{caller.user_id}_2"}, headers=caller.auth)
    log = api.get("/v1/account/activity", headers=caller.auth)

    assert changed.status_code == 200, changed.text
    assert [e["kind"] for e in log.json()["entries"]] == ["user_id.changed", "account.created"]
    assert log.json()["entries"][0]["source_ip"] == "127.0.0.1"

    def notice() -> list[dict[str, object]] | None:
        found = api.get("/_local/mailbox", params={"to": address}).json()["messages"]
        return [m for m in found if "User ID changed" in str(m)] or None

    assert len(wait_for(notice)) == 1
