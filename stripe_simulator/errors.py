"""Stripe's error responses, as the simulator raises them inside an endpoint."""

from __future__ import annotations

from typing import Any


class StripeAPIError(Exception):
    """An error response: `status` and Stripe's `error` object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error: dict[str, Any] = {"type": type, "message": message}
        if code is not None:
            self.error["code"] = code
        if param is not None:
            self.error["param"] = param
        if decline_code is not None:
            self.error["decline_code"] = decline_code
        self.error.update(extra)

    def body(self) -> dict[str, Any]:
        return {"error": self.error}


def invalid(message: str, *, param: str | None = None, code: str | None = None, **objects: Any) -> StripeAPIError:
    """A 400 `invalid_request_error`; `objects` are what Stripe attaches to the error (the
    `setup_intent` or `payment_intent` whose state refused the request)."""
    return StripeAPIError(400, message, param=param, code=code, **objects)


def missing(resource: str, identifier: str, param: str = "id") -> StripeAPIError:
    return StripeAPIError(404, f"No such {resource}: '{identifier}'", code="resource_missing", param=param)
