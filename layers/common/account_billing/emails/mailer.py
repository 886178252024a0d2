"""Sends the service's emails through Amazon SES."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from account_billing.core.observability import metrics
from account_billing.emails.messages import Message

if TYPE_CHECKING:
    from types_boto3_sesv2 import SESV2Client


class SesMailer:
    """Sends through the SES client `client()` gives: created on the first email, so requests
    that send nothing never pay for it. With a configuration set, SES publishes the emails'
    sends, deliveries, bounces and complaints to CloudWatch (the bounce and complaint alarms)."""

    def __init__(self, client: Callable[[], SESV2Client], sender: str, configuration_set: str | None = None) -> None:
        self.client = client
        self.sender = sender
        self.configuration_set = configuration_set

    def __call__(self, message: Message) -> None:
        options: dict[str, Any] = {"ConfigurationSetName": self.configuration_set} if self.configuration_set else {}
        try:
            self.client().send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": [message.to]},
                Content={
                    "Simple": {
                        "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"}},
                    }
                },
                **options,
            )
        except Exception:
            metrics.add_metric(name="EmailSendFailed", unit="Count", value=1)
            raise
        metrics.add_metric(name="EmailSent", unit="Count", value=1)
