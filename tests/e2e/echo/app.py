"""A throwaway function for the local stack's own tests: it records every event it receives
(with its environment and context) and answers HTTP requests according to their path."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

RECEIVED: list[dict[str, Any]] = []
ENVIRONMENT = ("TABLE_NAME", "BUCKET", "QUEUE_URL", "GREETING", "STACK", "CDN_URL", "AWS_ENDPOINT_URL", "AWS_REGION")


def handler(event: dict[str, Any], context: Any) -> Any:
    RECEIVED.append(
        {
            "event": event,
            "environment": {name: os.environ.get(name) for name in ENVIRONMENT},
            "function_name": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        }
    )
    if "requestContext" not in event:
        return {"handled": len(event.get("Records", [])) or 1}
    path = event["rawPath"]
    if path == "/boom":
        raise RuntimeError("a secret detail that must stay out of the response")
    if path == "/binary":
        return {
            "statusCode": 201,
            "headers": {"content-type": "image/png", "x-multi": "a,b"},
            "cookies": ["session=abc; Path=/; HttpOnly", "theme=dark"],
            "body": base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\xff").decode(),
            "isBase64Encoded": True,
        }
    if path == "/plain":
        return {"greeting": os.environ.get("GREETING")}  # no statusCode: API Gateway sends it as JSON
    if path == "/malformed":
        return {"statusCode": "two hundred"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
