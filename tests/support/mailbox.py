"""The emails sent through moto's SES, read like a mailbox."""

from __future__ import annotations

import os
import re
from typing import Any

from moto.backends import get_backend
from moto.core.models import DEFAULT_ACCOUNT_ID


def sent() -> list[Any]:
    return list(get_backend("ses")[DEFAULT_ACCOUNT_ID][os.environ["AWS_REGION"]].sent_messages)


def messages_to(address: str) -> list[Any]:
    return [m for m in sent() if address in m.destinations["ToAddresses"]]


def latest_token(address: str) -> str:
    """The token of the newest verification link sent to `address`."""
    bodies = [m.body for m in messages_to(address) if "token=" in m.body]
    assert bodies, f"no verification email to {address}"
    match = re.search(r"token=([A-Za-z0-9_-]+)", bodies[-1])
    assert match
    return match[1]
