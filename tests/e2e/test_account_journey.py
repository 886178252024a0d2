"""A user's account over real HTTP against the local stack: the real profile handler, the
local JWT authorizer, moto-backed DynamoDB."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Caller

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_a_new_account_is_created_and_read_back_with_its_etag(api: httpx.Client, caller: Caller) -> None:
    # Given a user without an account
    assert api.get("/v1/account", headers=caller.auth).status_code == 404

    # When they create one
    created = api.post("/v1/account", json={"user_id": caller.user_id}, headers=caller.auth)

    # Then it is theirs, with the identity the token carried, and reads back as created
    assert created.status_code == 201
    assert created.json()["user_id"] == caller.user_id
    # the authorizer passed email_verified as the string "true", as API Gateway does
    assert created.json()["primary_email"] == {"address": f"{caller.sub}@example.com", "verified": True}
    read = api.get("/v1/account", headers=caller.auth)
    assert read.status_code == 200
    assert read.json() == created.json()
    assert read.headers["etag"] == created.headers["etag"] == '"v1"'


def test_a_profile_edit_needs_the_current_etag(api: httpx.Client, caller: Caller, account: httpx.Response) -> None:
    etag = account.headers["etag"]

    edited = api.patch(
        "/v1/account/profile", json={"first_name": "Ada", "country": "GB"}, headers={**caller.auth, "If-Match": etag}
    )
    stale = api.patch("/v1/account/profile", json={"first_name": "Lost"}, headers={**caller.auth, "If-Match": etag})

    assert edited.status_code == 200
    assert edited.json()["profile"]["first_name"] == "Ada"
    assert edited.headers["etag"] == '"v2"'
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert api.get("/v1/account", headers=caller.auth).json()["profile"]["first_name"] == "Ada"


def test_a_public_profile_is_read_by_its_new_user_id_without_a_token(
    api: httpx.Client, caller: Caller, account: httpx.Response
) -> None:
    # Given an account that changed its User ID and went public
    new_id = caller.user_id + "_new"
    changed = api.put("/v1/account/user-id", json={"user_id": new_id}, headers=caller.auth)
    public = api.put("/v1/account/visibility", json={"visibility": "public"}, headers=caller.auth)
    assert changed.status_code == 200
    assert changed.json()["previous_user_id"] == caller.user_id
    assert public.status_code == 200

    # When anyone reads it, with no token at all
    profile = api.get(f"/v1/users/{new_id}")
    old = api.get(f"/v1/users/{caller.user_id}")

    # Then the new User ID finds it and the old one no longer does
    assert profile.status_code == 200
    assert profile.json()["user_id"] == new_id
    assert old.status_code == 404


def test_a_deleted_account_is_gone(api: httpx.Client, caller: Caller, account: httpx.Response) -> None:
    deleted = api.request("DELETE", "/v1/account", json={"confirm_user_id": caller.user_id}, headers=caller.auth)

    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = api.get("/v1/account", headers=caller.auth)
    assert gone.status_code == 404
    assert gone.json()["status"] == 404
    # the User ID is free again
    assert api.get(f"/v1/users/{caller.user_id}").status_code == 404


def test_concurrent_claims_of_one_user_id_leave_exactly_one_owner(api: httpx.Client, stack: LocalStack) -> None:
    # Given twelve new users who all want the same User ID at the same moment
    user_id = f"race_{uuid.uuid4().hex[:10]}"
    tokens = [stack.issue_token(f"race-{uuid.uuid4().hex[:10]}") for _ in range(12)]

    # When they all create their account with it concurrently
    def create(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return api.post("/v1/account", json={"user_id": user_id}, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = sorted(pool.map(create, tokens))

    # Then exactly one owns it and every other gets a conflict (never a 500: the local stack
    # applies each DynamoDB request atomically, as DynamoDB does)
    assert statuses == [201] + [409] * 11
