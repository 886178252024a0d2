"""Sends the service's emails through Amazon SES."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from account_billing.emails.messages import Message

if TYPE_CHECKING:
    from types_boto3_sesv2 import SESV2Client


class SesMailer:
    """Sends through the SES client `client()` gives: created on the first email, so requests
    that send nothing never pay for it."""

    def __init__(self, client: Callable[[], SESV2Client], sender: str) -> None:
        self.client = client
        self.sender = sender

    def __call__(self, message: Message) -> None:
        self.client().send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [message.to]},
            Content={
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"}},
                }
            },
        )
