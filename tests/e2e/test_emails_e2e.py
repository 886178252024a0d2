"""Email addresses through the local stack over HTTP: add, read the local mailbox, verify from
the link, make the new address primary, remove the old one."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def latest_link_token(api: httpx.Client, address: str) -> str:
    def token() -> str | None:
        messages = api.get("/_local/mailbox", params={"to": address}).json()["messages"]
        found = [re.search(r"token=([A-Za-z0-9_-]+)", m.get("body") or "") for m in messages]
        return next((m[1] for m in reversed(found) if m), None)

    return wait_for(token)


def test_a_user_adds_verifies_and_switches_primary_address(stack: LocalStack, api: httpx.Client) -> None:
    suffix = uuid.uuid4().hex[:8]
    first, second = f"first-{suffix}@example.com", f"Second-{suffix}@example.com"
    auth = {"Authorization": f"Bearer {stack.issue_token(f'mail-{suffix}', email=first, email_verified=True)}"}
    assert api.post("/v1/account", json={"user_id": f"mail_{suffix}"}, headers=auth).status_code == 201
    assert api.get("/v1/account", headers=auth).json()["primary_email"] == {"address": first, "verified": True}

    added = api.post("/v1/account/emails", json={"address": second}, headers=auth)
    assert added.status_code == 201, added.text
    assert added.json()["verified"] is False

    # the verification email is in the local mailbox; its link carries the token
    token = latest_link_token(api, second)
    verified = api.post("/v1/account/emails/verify", json={"token": token}, headers=auth)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True
    assert api.post("/v1/account/emails/verify", json={"token": token}, headers=auth).status_code == 422

    primary = api.put("/v1/account/emails/primary", json={"address": second}, headers=auth)
    assert primary.status_code == 200, primary.text
    assert api.get("/v1/account", headers=auth).json()["primary_email"]["address"] == second
    notices = api.get("/_local/mailbox", params={"to": first}).json()["messages"]
    assert any(second in (m.get("body") or "") for m in notices)

    removed = api.delete(f"/v1/account/emails/{quote(first, safe='')}", headers=auth)
    assert removed.status_code == 204, removed.text
    listed = api.get("/v1/account/emails", headers=auth).json()["emails"]
    assert [(e["address"], e["verified"], e["primary"]) for e in listed] == [(second, True, True)]
    # the primary itself cannot go
    kept = api.delete(f"/v1/account/emails/{quote(second, safe='')}", headers=auth)
    assert kept.status_code == 409
    assert kept.headers["content-type"] == "application/problem+json"
