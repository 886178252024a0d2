"""Tokens of a sign-in some minutes old, and the answer to one too old for a dangerous action."""

from __future__ import annotations

import time
from typing import Any


def signed_in(minutes_ago: float) -> dict[str, str]:
    """The claims of a token whose sign-in was `minutes_ago` (the default max_age is 10 minutes)."""
    return {"auth_time": str(int(time.time() - minutes_ago * 60))}


def assert_reauthentication_required(status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
    assert status == 401
    assert body["type"] == "urn:account-billing:problem:reauthentication-required"
    assert body["max_age"] == 600
    assert headers["content-type"] == "application/problem+json"
    assert "max_age=600" in headers["www-authenticate"]
