"""One exception class per failure meaning. Domain code raises them; `core.problems` maps them
to HTTP problem responses in one place. This module holds the base and the errors every feature
shares; each feature's own errors live in its `errors` module."""

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

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the problem response carries besides its body."""
        return {}


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

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class ConcurrentUpdate(ServiceError):
    status = 409
    kind = "concurrent-update"
    title = "The account changed while the request ran; retry it"


class PreconditionFailed(ServiceError):
    status = 412
    kind = "precondition-failed"
    title = "The account changed since it was read"


class TooManyRequests(ServiceError):
    status = 429
    kind = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail, retry_after=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class InvalidCursor(ServiceError):
    status = 400
    kind = "invalid-cursor"
    title = "The cursor is not valid"
