"""HTTP glue shared by the API functions: the resolver, the caller, JSON responses."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from pydantic import BaseModel

from account_billing.core.identity import Caller, caller_from_claims
from account_billing.core.problems import Problem, install_problem_handlers


def create_resolver() -> APIGatewayHttpResolver:
    """An HTTP API resolver that validates input with pydantic and answers problems."""
    app = APIGatewayHttpResolver(enable_validation=True)
    install_problem_handlers(app)
    return app


def caller_of(app: APIGatewayHttpResolver) -> Caller:
    """The authenticated caller of the current request (401 if the JWT named none)."""
    return caller_from_claims(app.current_event.request_context.authorizer.jwt_claim)


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


_PROBLEM_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "No verified identity",
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


def responses(status: int, model: type[BaseModel] | None, description: str, *problems: int) -> dict[int, Any]:
    """The OpenAPI `responses` of a route: its success and the problems it can answer."""
    success: dict[str, Any] = {"description": description}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    documented: dict[int, Any] = {status: success}
    for code in problems:
        documented[code] = {
            "description": _PROBLEM_DESCRIPTIONS[code],
            "content": {"application/problem+json": {"model": Problem}},
        }
    return documented
