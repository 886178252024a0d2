"""API Gateway HTTP API (v2) events for handler tests, built from the samples in `events/`."""

from __future__ import annotations

import copy
import json
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


@cache
def _sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data


def http_event(
    sample: str,
    *,
    sub: str | None = "user-1",
    body: Any = ...,
    raw_body: str | None = None,
    headers: dict[str, str | None] | None = None,
    claims: dict[str, Any] | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The sample event `events/<sample>.json`, as the caller `sub` (None: no identity), with
    its body, headers (None removes one), claims (None removes one) or path parameters replaced.
    The caller has just signed in (`auth_time` now) unless `claims` says otherwise."""
    event = copy.deepcopy(_sample(sample))
    if "requestId" in event.get("requestContext", {}):  # each request is a new one, made now
        event["requestContext"]["requestId"] = uuid.uuid4().hex
        event["requestContext"]["timeEpoch"] = int(time.time() * 1000)
    if sub is None:
        event["requestContext"].pop("authorizer", None)
        event["headers"].pop("authorization", None)
    elif claims is not None or "authorizer" in event["requestContext"]:
        jwt_claims = {"sub": sub, "auth_time": str(int(time.time())), **(claims or {})}
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": {k: v for k, v in jwt_claims.items() if v is not None}, "scopes": None}
        }
    if body is not ...:
        event["body"] = json.dumps(body)
    if raw_body is not None:
        event["body"] = raw_body
    for name, value in (headers or {}).items():
        if value is None:
            event["headers"].pop(name, None)
        else:
            event["headers"][name] = value
    if path_parameters is not None:
        event["pathParameters"] = path_parameters
        event["rawPath"] = event["requestContext"]["routeKey"].split(" ", 1)[1].format(**path_parameters)
        event["requestContext"]["http"]["path"] = event["rawPath"]
    return event


class LambdaContext:
    """The parts of a Lambda context that Powertools reads."""

    function_name = "test-function"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:test-function"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def call(handler: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Invoke a Lambda handler; return status, headers (lowercased) and the decoded JSON body."""
    response = handler(event, LambdaContext())
    body = response.get("body")
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    return response["statusCode"], headers, json.loads(body) if body else None
