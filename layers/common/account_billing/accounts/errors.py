"""Errors of accounts: the account, its User ID, its deletion."""

from __future__ import annotations

from typing import Any

from account_billing.core.errors import ServiceError


class AccountNotFound(ServiceError):
    """The caller has no account (or, where the action needs one, no active account)."""

    status = 404
    kind = "account-not-found"
    title = "No account"

    def __init__(self, detail: str = "The caller has no account.", **extensions: Any) -> None:
        super().__init__(detail, **extensions)


class UserNotFound(ServiceError):
    status = 404
    kind = "user-not-found"
    title = "No such user"


class AccountAlreadyExists(ServiceError):
    status = 409
    kind = "account-exists"
    title = "The caller already has an account"


class UserIdTaken(ServiceError):
    status = 409
    kind = "user-id-taken"
    title = "That User ID is taken"


class ConfirmationMismatch(ServiceError):
    status = 422
    kind = "confirmation-mismatch"
    title = "The confirmation does not match the account's User ID"
