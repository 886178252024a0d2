"""Reading an account's activity log as its owner does (the profile function's route)."""

from __future__ import annotations

from typing import Any

from functions.profile import app as profile
from tests.support.events import call, http_event


def activity(sub: str, **query: str) -> tuple[int, Any]:
    event = http_event("profile/list_activity", sub=sub)
    event["queryStringParameters"] = query or None
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    status, _, body = call(profile.lambda_handler, event)
    return status, body


def entries(sub: str, **query: str) -> list[dict[str, Any]]:
    status, body = activity(sub, limit="100", **query)
    assert status == 200, body
    return list(body["entries"])


def kinds(sub: str) -> list[str]:
    return [entry["kind"] for entry in entries(sub)]
