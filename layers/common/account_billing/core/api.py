"""HTTP glue shared by the API functions: the resolver, the caller, JSON responses, and the
OpenAPI description of the responses a route really gives (a fuzzer checks them)."""

from __future__ import annotations

import copy
import uuid
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType
from aws_lambda_powertools.event_handler.openapi.params import Header
from pydantic import BaseModel, Field

from account_billing.core.clock import from_epoch_ms, timestamp, utc_now
from account_billing.core.http import parse_json
from account_billing.core.identity import Caller, caller_from_claims
from account_billing.core.models import LAZY
from account_billing.core.origin import Actor, Origin
from account_billing.core.problems import PROBLEM_JSON, Problem, install_problem_handlers

if TYPE_CHECKING:
    # Powertools' OpenAPI document models cost more to import than the rest of a function's
    # cold start: only the OpenAPI document (docs, tests) needs them, and Powertools imports
    # them itself when it builds one.
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI


def _is_json(content_type: str) -> bool:
    return not content_type or content_type.split(";", 1)[0].strip().lower() == "application/json"


class _JsonBodies(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, taking bodies as JSON only: it would also parse form and
    multipart bodies (and fail with a 500 on a multipart type without a boundary)."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type", "").strip()
        if not _is_json(content_type):
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": "JSON only", "input": {}}],
            )
        body: dict[str, Any] = super()._get_body(app)
        return body


class ApiResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver, taking JSON bodies only (RFC 8259 JSON: `http.parse_json`),
    whose OpenAPI document also tells that every route taking a body answers 400 to one that
    is not JSON (or not UTF-8, or nested too deeply) and 415 to one of another type."""

    def __init__(self) -> None:
        super().__init__(enable_validation=True, json_body_deserializer=parse_json)
        self._request_validation_middleware = _JsonBodies()  # type: ignore[no-untyped-call]

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        schema = super().get_openapi_schema(**kwargs)
        for path in (schema.paths or {}).values():
            for operation in (path.get, path.put, path.post, path.patch, path.delete):
                responses = operation.responses if operation is not None else None
                if operation is None or operation.requestBody is None or responses is None:
                    continue
                for status in (400, 415):
                    if status not in responses:
                        documented = copy.deepcopy(responses[422])  # the problem document, as every route has it
                        documented.description = _PROBLEM_DESCRIPTIONS[status]
                        responses[status] = documented
        return schema


def create_resolver() -> APIGatewayHttpResolver:
    """An HTTP API resolver that validates input with pydantic and answers problems."""
    app = ApiResolver()
    install_problem_handlers(app)
    return app


def caller_of(app: APIGatewayHttpResolver) -> Caller:
    """The authenticated caller of the current request (401 if the JWT named none), with the
    request it made (its id, time, source IP and user agent: what the activity log records)."""
    return caller_from_claims(app.current_event.request_context.authorizer.jwt_claim, request_origin(app))


def request_origin(app: APIGatewayHttpResolver) -> Origin:
    """The current request as the origin of what it changes."""
    context = app.current_event.raw_event.get("requestContext") or {}
    http = context.get("http") or {}
    epoch_ms = context.get("timeEpoch")
    at = from_epoch_ms(epoch_ms) if isinstance(epoch_ms, int) and epoch_ms > 0 else utc_now()
    return Origin(
        actor=Actor.USER,
        operation=f"request:{context.get('requestId') or uuid.uuid4().hex}",
        at=timestamp(at),
        source_ip=str(http.get("sourceIp") or "")[:64] or None,
        user_agent=str(http.get("userAgent") or "")[:256] or None,
    )


# The header every money-moving POST/PUT requires: a retry with the same key answers as the first.
IdempotencyKey = Annotated[
    str,
    Header(
        alias="idempotency-key",
        min_length=8,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique key per request (a UUID); a retry with the same key returns the first answer",
    ),
]


def json_response(model: BaseModel, status: int = 200, headers: dict[str, Any] | None = None) -> Response[str]:
    """A JSON response of private data: never cached by shared caches."""
    return Response(
        status_code=status,
        content_type="application/json",
        body=model.model_dump_json(),
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def no_content() -> Response[None]:
    """204: done, nothing to show (and nothing for a shared cache to keep)."""
    return Response(204, headers={"Cache-Control": "no-store"})


class GatewayMessage(BaseModel):
    """What API Gateway answers by itself, e.g. its JWT authorizer's 401: `{"message": "Unauthorized"}`."""

    model_config = LAZY  # the OpenAPI document's only: never built by a function

    message: str = Field(examples=["Unauthorized"])


_PROBLEM_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "No verified identity: API Gateway's JWT authorizer refused the token (its own JSON message), "
    "or the token names no account key (a problem)",
    402: "Card declined (decline_code says why)",
    404: "Not found",
    409: "Conflict",
    412: "If-Match failed",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests (see Retry-After)",
    502: "An upstream service failed; retry later",
    503: "The payment provider is unavailable; retry later",
}


_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer, with the reason", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 1}}},
}


def responses(status: int, model: type[BaseModel] | None, description: str, *problems: int) -> dict[int, Any]:
    """The OpenAPI `responses` of a route: its success and the problems it can answer.

    A 204 or a redirect has no body; any other success without a model is some JSON. Every
    route may answer 422 (as a
    problem, not Powertools' default shape); 401 (a route behind the JWT authorizer) also
    comes from API Gateway itself, in its own shape; 400 is added to routes taking a body
    (`ApiResolver`)."""
    success: dict[str, Any] = {"description": description}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    else:
        success["content"] = {} if status == 204 or 300 <= status < 400 else {"application/json": {"schema": {}}}
    documented: dict[int, Any] = {status: success}
    for code in sorted({*problems, 422}):
        content: dict[str, Any] = {PROBLEM_JSON: {"model": Problem}}
        if code == 401:
            content["application/json"] = {"model": GatewayMessage}
        documented[code] = {"description": _PROBLEM_DESCRIPTIONS[code], "content": content}
        if code in _HEADERS:
            documented[code]["headers"] = _HEADERS[code]
    return documented
