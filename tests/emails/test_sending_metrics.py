"""Sending through SES: through the stage's configuration set (its events feed the bounce and
complaint alarms), every email counted as sent or failed."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from account_billing.emails.mailer import SesMailer
from account_billing.emails.messages import Message
from tests.support.emails import EmailsClient
from tests.support.emf import EmittedMetrics
from tests.support.mailbox import messages_to
from tests.support.profile import ProfileClient

SENDER = "no-reply@example.com"
MESSAGE = Message(to="ada@example.org", subject="Verify your address", text="https://example.test/verify")


def _stubbed() -> tuple[Stubber, SesMailer]:
    client = boto3.client("sesv2", region_name="eu-west-1")
    return Stubber(client), SesMailer(lambda: client, SENDER, "test-emails")


def test_an_email_goes_through_the_configuration_set_and_counts_as_sent(emitted_metrics: EmittedMetrics) -> None:
    stubber, mailer = _stubbed()
    stubber.add_response(
        "send_email",
        {"MessageId": "m-1"},
        {
            "FromEmailAddress": SENDER,
            "Destination": {"ToAddresses": [MESSAGE.to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": MESSAGE.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": MESSAGE.text, "Charset": "UTF-8"}},
                }
            },
            "ConfigurationSetName": "test-emails",
        },
    )

    with stubber:
        mailer(MESSAGE)

    stubber.assert_no_pending_responses()
    assert emitted_metrics.values("EmailSent") == [1.0]
    assert emitted_metrics.values("EmailSendFailed") == []


def test_an_email_ses_refuses_counts_as_failed_and_the_error_goes_on(emitted_metrics: EmittedMetrics) -> None:
    stubber, mailer = _stubbed()
    stubber.add_client_error("send_email", "MessageRejected", "Email address is not verified.")

    with stubber, pytest.raises(Exception, match="not verified"):
        mailer(MESSAGE)

    assert emitted_metrics.values("EmailSendFailed") == [1.0]
    assert emitted_metrics.values("EmailSent") == []


@pytest.mark.usefixtures("aws")
def test_the_emails_function_sends_through_its_configuration_set(
    monkeypatch: pytest.MonkeyPatch, emitted_metrics: EmittedMetrics
) -> None:
    # As the template gives it (EMAIL_CONFIGURATION_SET: !Ref EmailConfigurationSet); the IAM
    # check holds the call to the function's policy, configuration set included.
    monkeypatch.setenv("EMAIL_CONFIGURATION_SET", "test-EmailConfigurationSet")
    ProfileClient("sub-ada").create("ada")

    status, _, body = EmailsClient("sub-ada").add("ada@example.org")

    assert status == 201, body
    assert len(messages_to("ada@example.org")) == 1
    assert emitted_metrics.values("EmailAdded") == [1.0]
    assert emitted_metrics.values("EmailSent") == [1.0]
