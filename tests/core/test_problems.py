"""Errors become RFC 9457 problem responses, in one place."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from account_billing.accounts import errors as accounts
from account_billing.core import errors
from account_billing.core.problems import (
    PROBLEM_JSON,
    from_request_validation,
    from_service_error,
    unexpected,
    validation_errors,
)


def body(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.body)
    return data


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (errors.Unauthenticated(), 401, "unauthenticated"),
        (accounts.AccountNotFound(), 404, "account-not-found"),
        (accounts.UserNotFound(), 404, "user-not-found"),
        (accounts.AccountAlreadyExists(), 409, "account-exists"),
        (accounts.UserIdTaken(), 409, "user-id-taken"),
        (errors.ConcurrentUpdate(), 409, "concurrent-update"),
        (errors.PreconditionFailed(), 412, "precondition-failed"),
        (accounts.ConfirmationMismatch(), 422, "confirmation-mismatch"),
    ],
)
def test_each_error_has_its_status_and_type(error: errors.ServiceError, status: int, kind: str) -> None:
    response = from_service_error(error)
    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM_JSON
    problem = body(response)
    assert problem["status"] == status
    assert problem["type"] == f"urn:account-billing:problem:{kind}"
    assert problem["title"]
    assert problem["detail"]


def test_detail_and_extensions_are_carried() -> None:
    problem = body(from_service_error(accounts.UserIdTaken("The User ID 'ada' is taken.", user_id="ada")))
    assert problem["detail"] == "The User ID 'ada' is taken."
    assert problem["user_id"] == "ada"


def test_validation_errors_point_into_the_body_and_never_echo_input() -> None:
    found = validation_errors(
        [
            {"type": "string_too_long", "loc": ("body", "profile", "bio"), "msg": "too long", "input": "secret"},
            {"type": "missing", "loc": ("header", "idempotency-key"), "msg": "Field required", "input": None},
        ]
    )
    assert found == [
        {"detail": "too long", "code": "string_too_long", "pointer": "#/profile/bio"},
        {"detail": "Field required", "code": "missing", "parameter": "idempotency-key", "in": "header"},
    ]
    assert "secret" not in json.dumps(found)


def test_an_unexpected_error_is_a_bare_500_without_its_message() -> None:
    response = unexpected(RuntimeError("database password is hunter2"))
    problem = body(response)
    assert response.status_code == 500
    assert problem["status"] == 500
    assert "hunter2" not in (response.body or "")


def test_a_401_asks_for_a_bearer_token_and_a_429_says_when_to_retry() -> None:
    assert from_service_error(errors.Unauthenticated()).headers["WWW-Authenticate"] == "Bearer"
    limited = from_service_error(errors.TooManyRequests("slow down", retry_after_seconds=60))
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    assert body(limited)["retry_after"] == 60


def test_a_response_that_breaks_its_own_schema_is_our_500_not_the_callers_422() -> None:
    error = RequestValidationError([{"type": "string_type", "loc": ("response",), "msg": "bad", "input": None}])
    response = from_request_validation(error)
    assert response.status_code == 500
    assert body(response)["type"].endswith("internal-error")
