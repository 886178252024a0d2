"""The one place that turns errors into RFC 9457 `application/problem+json` responses."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel, Field

from account_billing.core.errors import ServiceError
from account_billing.core.models import LAZY
from account_billing.core.observability import logger


class InvalidField(BaseModel):
    model_config = LAZY

    detail: str
    code: str = Field(description="pydantic's error type, e.g. string_too_long")
    pointer: str | None = Field(default=None, description="JSON Pointer into the body, e.g. #/first_name")
    parameter: str | None = Field(default=None, description="Name of an invalid header, query or path parameter")


class Problem(BaseModel):
    model_config = LAZY

    type: str = Field(examples=["urn:account-billing:problem:user-id-taken"])
    title: str
    status: int
    detail: str
    errors: list[InvalidField] | None = None


PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:account-billing:problem:"


def problem(
    status: int, kind: str, title: str, detail: str, headers: dict[str, str] | None = None, **extensions: Any
) -> Response[str]:
    body = {"type": TYPE_PREFIX + kind, "title": title, "status": status, "detail": detail, **extensions}
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def from_service_error(exc: ServiceError) -> Response[str]:
    return problem(exc.status, exc.kind, exc.title, exc.detail, exc.headers, **exc.extensions)


def _location(loc: Sequence[Any]) -> dict[str, str]:
    """Where an invalid value sits: a JSON Pointer into the body, or a parameter's name."""
    source, *path = loc or ("body",)
    if source == "body":
        return {"pointer": "#" + "".join(f"/{part}" for part in path)}
    return {"parameter": str(path[0]) if path else str(source), "in": str(source)}


def validation_errors(errors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic's errors as problem `errors` members; the rejected input is never echoed."""
    return [{"detail": error["msg"], "code": error["type"], **_location(error.get("loc", ()))} for error in errors]


def from_request_validation(exc: RequestValidationError) -> Response[str]:
    errors = exc.errors()
    if any(error.get("loc", ("",))[0] == "response" for error in errors):
        # A handler returned something its route does not declare: our fault, not the caller's.
        return unexpected(exc)
    if any(error["type"] == "json_invalid" for error in errors):
        return malformed_json("The request body is not valid JSON.")
    return problem(
        422,
        "validation-error",
        "The request is not valid",
        f"{len(errors)} field(s) failed validation.",
        errors=validation_errors(errors),
    )


def malformed_json(detail: str) -> Response[str]:
    return problem(400, "malformed-json", "Malformed JSON", detail)


def body_is_utf8(event: Any) -> bool:
    """Whether an API Gateway event's body (base64-encoded when it is not text) is UTF-8."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return True
    try:
        base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return True


def from_undecodable_body(app: Any) -> Callable[[UnicodeDecodeError], Response[str]]:
    """Powertools decodes a body to text before parsing it, and raises `UnicodeDecodeError` on
    one that is not UTF-8 (JSON must be, RFC 8259): the caller's mistake, a 400. The same error
    with a UTF-8 body is ours."""

    def handle(exc: UnicodeDecodeError) -> Response[str]:
        if body_is_utf8(app.current_event.raw_event):
            return unexpected(exc)
        return malformed_json("The request body is not UTF-8 text: JSON must be.")

    return handle


def from_unsupported_content_type(_: RequestUnsupportedContentType) -> Response[str]:
    return problem(415, "unsupported-media-type", "Unsupported media type", "Send the body as application/json.")


def route_not_found(_: NotFoundError) -> Response[str]:
    return problem(404, "not-found", "Not found", "No such route.")


def unexpected(exc: Exception) -> Response[str]:
    # The traceback goes to the log only; the caller sees a generic problem.
    logger.exception("Unhandled error")
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    return problem(status, "internal-error", status.phrase, "The request could not be completed; retry it later.")


def install_problem_handlers(app: Any) -> None:
    """Route every error raised while handling a request through this module."""
    app.exception_handler(ServiceError)(from_service_error)
    app.exception_handler(RequestValidationError)(from_request_validation)
    app.exception_handler(RequestUnsupportedContentType)(from_unsupported_content_type)
    app.exception_handler(UnicodeDecodeError)(from_undecodable_body(app))
    app.not_found(route_not_found)
    app.exception_handler(Exception)(unexpected)
