"""Publishes the service's own events on EventBridge."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_boto3_events import EventBridgeClient

SOURCE = "account-billing"


class EventPublisher:
    def __init__(self, client: EventBridgeClient, bus_name: str, detail_type: str) -> None:
        self.client = client
        self.bus_name = bus_name
        self.detail_type = detail_type

    def __call__(self, detail: dict[str, Any]) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": SOURCE,
                    "DetailType": self.detail_type,
                    "Detail": json.dumps(detail),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise RuntimeError(f"EventBridge refused the event: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
