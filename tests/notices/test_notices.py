"""Security notices: composed in the user's words, published once the change is made, sent once
by the notices function to the primary (and, where it changes, the old) address, never blocking
the change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from account_billing.activity.records import ActivityKind
from account_billing.core.wiring import providing
from account_billing.notices.messages import NOTICE_KINDS, notice
from account_billing.notices.publisher import Publish, notice_publisher
from functions.security_notices import app as security_notices
from tests.support.emails import EmailsClient
from tests.support.events import LambdaContext
from tests.support.mailbox import latest_token, messages_to
from tests.support.profile import ProfileClient

ADA = "ada@example.com"


def test_every_notice_says_what_changed_and_what_to_do_if_it_was_not_you() -> None:
    details = {
        "user_id": "countess",
        "previous_user_id": "ada",
        "address": "countess@example.com",
        "previous_address": ADA,
        "brand": "visa",
        "last4": "4242",
    }
    for kind in NOTICE_KINDS:
        message = notice(kind, details, ADA, "2026-12-01T10:00:00.000Z")
        assert message.to == ADA
        assert "If this was not you" in message.text
        assert "2026-12-01T10:00:00.000Z" in message.text
    assert "from ada to countess" in notice(ActivityKind.USER_ID_CHANGED, details, ADA, "t").text
    assert "Visa ending in 4242" in notice(ActivityKind.CARD_REMOVED, details, ADA, "t").text


class Bus:
    """EventBridge between the functions that publish notices and the notices function."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []
        self.outcomes: list[str] = []
        self.fail_publishing = False

    def publish(self, detail: dict[str, Any]) -> None:
        if self.fail_publishing:
            raise RuntimeError("EventBridge is unavailable")
        self.published.append(detail)
        self.outcomes.append(deliver(detail))


def deliver(detail: dict[str, Any]) -> str:
    event = {"detail-type": "SecurityNotice", "source": "account-billing", "detail": detail}
    return str(security_notices.lambda_handler(event, LambdaContext())["outcome"])


@pytest.fixture
def bus(aws: dict[str, str]) -> Iterator[Bus]:
    the_bus = Bus()
    publish: Publish | None = the_bus.publish
    with providing(notice_publisher, publish):
        yield the_bus


@pytest.fixture
def ada(bus: Bus) -> ProfileClient:
    client = ProfileClient("sub-ada", claims={"email": ADA, "email_verified": "true"})
    assert client.create("ada")[0] == 201
    return client


def subjects(address: str) -> list[str]:
    return [m.subject for m in messages_to(address)]


def test_a_user_id_change_is_told_to_the_primary_address_once(ada: ProfileClient, bus: Bus) -> None:
    assert ada.change_user_id("countess")[0] == 200

    assert subjects(ADA) == ["Your User ID changed"]
    [detail] = bus.published
    assert deliver(detail) == "duplicate"  # EventBridge delivers it again
    assert subjects(ADA) == ["Your User ID changed"]


def test_a_deletion_request_is_told_to_the_address_the_account_had(ada: ProfileClient, bus: Bus) -> None:
    assert ada.delete("ada")[0] == 204

    assert subjects(ADA) == ["Your account is being deleted"]
    assert bus.outcomes == ["sent"]


def test_an_added_address_is_told_to_the_primary_and_a_new_primary_to_both(ada: ProfileClient, bus: Bus) -> None:
    emails = EmailsClient("sub-ada")
    assert emails.add("countess@example.com")[0] == 201
    assert emails.verify(latest_token("countess@example.com"))[0] == 200
    assert emails.set_primary("countess@example.com")[0] == 200

    assert subjects(ADA) == ["An email address was added to your account", "Your primary email address changed"]
    assert "Your primary email address changed" in subjects("countess@example.com")


def test_a_notice_that_cannot_be_published_does_not_block_the_change(ada: ProfileClient, bus: Bus) -> None:
    bus.fail_publishing = True

    status, _, body = ada.change_user_id("countess")

    assert (status, body["user_id"]) == (200, "countess")
    assert subjects(ADA) == []


def test_a_notice_that_cannot_be_sent_is_sent_by_the_retry(
    ada: ProfileClient, bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = security_notices.notices()
    real_send = sender.send

    def refuse(message: Any) -> None:
        raise RuntimeError("SES is unavailable")

    monkeypatch.setattr(sender, "send", refuse)
    assert ada.change_user_id("countess")[0] == 200  # the change is made; the first delivery fails
    monkeypatch.setattr(sender, "send", real_send)

    assert bus.outcomes == []
    assert deliver(bus.published[0]) == "sent"  # EventBridge retries the event
    assert subjects(ADA) == ["Your User ID changed"]


def test_the_change_publishes_its_notice_on_the_configured_bus(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json  # noqa: PLC0415

    import boto3  # noqa: PLC0415

    # Given the bus the template names, with a rule as the notices function's (its target a queue here)
    monkeypatch.setenv("SECURITY_NOTICE_BUS", "default")
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue = sqs.create_queue(QueueName="notices")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["account-billing"], "detail-type": ["SecurityNotice"]}
    events.put_rule(Name="notices", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="notices", Targets=[{"Id": "queue", "Arn": arn}])
    ada = ProfileClient("sub-ada", claims={"email": ADA, "email_verified": "true"})
    assert ada.create("ada")[0] == 201

    assert ada.change_user_id("countess")[0] == 200

    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    detail = json.loads(message["Body"])["detail"]
    assert (detail["account"], detail["kind"]) == ("sub-ada", "user_id.changed")
    assert detail["details"] == {"user_id": "countess", "previous_user_id": "ada"}
    assert deliver(detail) == "sent"
    assert subjects(ADA) == ["Your User ID changed"]
