"""The local JWT authorizer answers as API Gateway's does: 401 before the function runs."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.stack import LocalStack
from tests.e2e.conftest import Caller, python_module

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

UNAUTHORIZED = {"message": "Unauthorized"}


def forged_token(stack: LocalStack, sub: str) -> str:
    """A token with every right claim and the stack's key id, signed by another key."""
    assert stack.issuer is not None
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(stack.issuer.claims(sub), other_key, algorithm="RS256", headers={"kid": stack.issuer.kid})


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no token"),
        pytest.param("Bearer", id="bearer without a token"),
        pytest.param("Bearer not-a-jwt", id="garbage"),
    ],
)
def test_a_request_without_a_valid_token_is_refused(
    api: httpx.Client, authorization: str | None, account: httpx.Response
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = api.get("/v1/account", headers=headers)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(({"expires_in": -60}, "the token has expired"), id="expired"),
        pytest.param(({"aud": "someone-else"}, "the token does not have a valid audience"), id="wrong audience"),
        pytest.param(({"iss": "https://evil.example/"}, "the token has an invalid issuer"), id="wrong issuer"),
        pytest.param(({"aud": None}, "the token does not have a valid audience"), id="no audience"),
    ],
)
def test_a_token_the_authorizer_rejects_gets_401(
    stack: LocalStack, api: httpx.Client, caller: Caller, account: httpx.Response, case: tuple[dict[str, Any], str]
) -> None:
    claims, description = case
    # Given a caller with an account, and a token of theirs that is wrong in one way
    token = stack.issue_token(caller.sub, **claims)

    response = api.get("/v1/account", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert f'error_description="{description}"' in response.headers["www-authenticate"]


def test_a_token_signed_by_another_key_gets_401(
    stack: LocalStack, api: httpx.Client, caller: Caller, account: httpx.Response
) -> None:
    response = api.get("/v1/account", headers={"Authorization": f"Bearer {forged_token(stack, caller.sub)}"})

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert 'error_description="the token signature is invalid"' in response.headers["www-authenticate"]


def test_the_token_may_come_without_the_bearer_prefix(
    api: httpx.Client, caller: Caller, account: httpx.Response
) -> None:
    response = api.get("/v1/account", headers={"Authorization": caller.token})

    assert response.status_code == 200
    assert response.json()["user_id"] == caller.user_id


def test_a_public_route_needs_no_token(api: httpx.Client) -> None:
    response = api.get("/v1/users/nobody_here")

    # the handler answered (its problem document), not the authorizer
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_make_token_prints_a_token_the_running_stack_accepts(
    stack: LocalStack, api: httpx.Client, caller: Caller, account: httpx.Response
) -> None:
    # Given `make token` run for the caller against the stack's state folder
    result = python_module("local.token", caller.sub, "--state-dir", str(stack.state_dir))
    printed = result.stdout
    assert result.returncode == 0, result.stderr

    # Then it printed only the token, and the stack accepts it as the caller
    token = printed.strip()
    assert printed == token + "\n"
    assert api.get("/v1/account", headers={"Authorization": f"Bearer {token}"}).json()["user_id"] == caller.user_id


def test_a_token_of_an_old_sign_in_must_sign_in_again_for_a_dangerous_action(
    stack: LocalStack, api: httpx.Client, caller: Caller, account: httpx.Response
) -> None:
    # Given `make token AUTH_AGE=900`: the caller signed in 15 minutes ago
    result = python_module("local.token", caller.sub, "--auth-age", "900", "--state-dir", str(stack.state_dir))
    assert result.returncode == 0, result.stderr
    old = {"Authorization": f"Bearer {result.stdout.strip()}"}

    # When it deletes its account with that token, and then with a fresh one
    refused = api.request("DELETE", "/v1/account", json={"confirm_user_id": caller.user_id}, headers=old)
    deleted = api.request("DELETE", "/v1/account", json={"confirm_user_id": caller.user_id}, headers=caller.auth)

    # Then the authorizer passed auth_time on (as a string, as API Gateway does) and the function
    # asked for a sign-in at most 10 minutes old; the fresh sign-in (auth_time now) deleted it
    assert refused.status_code == 401
    assert refused.json()["type"] == "urn:account-billing:problem:reauthentication-required"
    assert refused.json()["max_age"] == 600
    assert 'error="insufficient_user_authentication"' in refused.headers["www-authenticate"]
    assert deleted.status_code == 204
