"""DynamoDB applies each request atomically: a conditional write or a transaction never
interleaves with another request on the same items. moto's backend takes no lock, so two
threads (the API's request threads, the scheduler, the event poller) could both pass one
condition, or a transaction could copy a table while another request writes it. Serializing
moto's DynamoDB requests restores the guarantee; callers still race between their requests,
which is what real clients do."""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_request = threading.Lock()
_moto_call_action = DynamoHandler.call_action


def atomic_call_action(self: DynamoHandler) -> Any:
    with _request:
        return _moto_call_action(self)


def install() -> None:
    """Serialize every DynamoDB request moto serves in this process (idempotent)."""
    DynamoHandler.call_action = atomic_call_action  # type: ignore[method-assign]
