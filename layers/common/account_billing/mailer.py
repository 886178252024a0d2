"""Sends the service's emails through Amazon SES."""

from __future__ import annotations

from typing import Any

from .email_messages import Message


class SesMailer:
    def __init__(self, client: Any, sender: str) -> None:
        self.client = client
        self.sender = sender

    def __call__(self, message: Message) -> None:
        self.client.send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [message.to]},
            Content={
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"}},
                }
            },
        )
