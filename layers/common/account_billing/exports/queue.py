"""The export queue: a message per export to build (and per continuation of a long one). SQS
delivers it to the export function; one that keeps failing goes to the dead-letter queue."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from account_billing.core.wiring import sqs_client
from account_billing.exports.settings import export_settings

if TYPE_CHECKING:
    from types_boto3_sqs import SQSClient


class ExportQueue:
    def __init__(self, client: SQSClient, url: str) -> None:
        self.client = client
        self.url = url

    @classmethod
    def from_settings(cls) -> ExportQueue:
        return cls(sqs_client(), export_settings().queue_url())

    def send(self, sub: str, export_id: str) -> None:
        self.client.send_message(QueueUrl=self.url, MessageBody=json.dumps({"account": sub, "export": export_id}))
