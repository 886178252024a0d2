"""One exception class per failure meaning. Domain code raises them; `problems` maps them to
HTTP problem responses in one place."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every error the API reports to its caller as a problem response."""

    status = 500
    kind = "internal-error"
    title = "Internal error"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions


class InvalidRequest(ServiceError):
    status = 422
    kind = "validation-error"
    title = "The request is not valid"

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)


class Unauthenticated(ServiceError):
    status = 401
    kind = "unauthenticated"
    title = "Authentication required"


class AccountNotFound(ServiceError):
    status = 404
    kind = "account-not-found"
    title = "No account"


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


class ConcurrentUpdate(ServiceError):
    status = 409
    kind = "concurrent-update"
    title = "The account changed while the request ran; retry it"


class ConfirmationMismatch(ServiceError):
    status = 422
    kind = "confirmation-mismatch"
    title = "The confirmation does not match the account's User ID"


class PreconditionFailed(ServiceError):
    status = 412
    kind = "precondition-failed"
    title = "The account changed since it was read"
