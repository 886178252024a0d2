"""Spending alerts: thresholds (50/80/100 % by default, editable), each crossed once a month on
the usage path (an event on the bus and an email to the billing email), concurrent usage
crossing a threshold exactly once, a failed publish given back for the retry, and the spending
view listing what was crossed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier
from typing import Any

import boto3
import pytest

from account_billing.accounts.store import AccountStore
from account_billing.core.events import EventPublisher
from account_billing.core.table import Table
from account_billing.emails.messages import Message
from account_billing.spending.alerts import SpendingAlerts, crossed_now
from account_billing.spending.alerts_store import AlertStore
from account_billing.spending.service import SpendingService, Usage
from account_billing.spending.store import SpendStore
from functions.spending import app as spending_app
from tests.spending.test_spending import BUS, set_plan
from tests.support import table
from tests.support.events import call, http_event
from tests.support.mailbox import messages_to
from tests.support.profile import ProfileClient
from tests.support.usage import deliver, failed_ids, usage_event

NOW = datetime.now(UTC)
TIME = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
MONTH = NOW.strftime("%Y-%m")


@pytest.fixture
def crossed(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """The usage bus, with a queue receiving every SpendingThresholdCrossed published on it."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = json.dumps({"detail-type": ["SpendingThresholdCrossed"]})
    events.put_rule(Name="alerts", EventBusName=BUS, EventPattern=pattern)
    events.put_targets(Rule="alerts", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": queue_arn}])
    monkeypatch.setenv("EVENT_BUS_NAME", BUS)

    def published() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            found += [json.loads(m["Body"]) for m in messages]
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages],
            )
        return found

    return published


@pytest.fixture
def developer(crossed: Any) -> str:
    """An account on the Developer plan ($100 a month) whose primary address is verified."""
    claims = {"email": "dev@example.com", "email_verified": "true"}
    ProfileClient("sub-dev", claims=claims).create("dev_account")
    set_plan("sub-dev", "developer")
    return "sub-dev"


def _alerts(sub: str, method: str = "get", body: Any = None) -> tuple[int, Any]:
    sample = "spending/get_spending_alerts" if method == "get" else "spending/replace_spending_alerts"
    kwargs = {} if body is None else {"body": body}
    status, _, answer = call(spending_app.lambda_handler, http_event(sample, sub=sub, **kwargs))
    return status, answer


def _spending(sub: str) -> Any:
    return call(spending_app.lambda_handler, http_event("spending/get_spending", sub=sub))[2]


def test_crossed_now_is_what_the_spend_reached_and_has_not_alerted() -> None:
    assert crossed_now((50, 80, 100), set(), 79_99, 100_00) == [50]
    assert crossed_now((50, 80, 100), {50}, 80_00, 100_00) == [80]
    assert crossed_now((100, 50), set(), 250_00, 100_00) == [50, 100]
    assert crossed_now((50,), set(), 10, 0) == []


def test_the_default_thresholds_alert_once_each_with_an_event_and_an_email(developer: str, crossed: Any) -> None:
    assert _alerts(developer) == (200, {"thresholds": [50, 80, 100]})

    deliver(usage_event(developer, 49_99, "u-1", TIME))
    assert crossed() == []
    deliver(usage_event(developer, 35_00, "u-2", TIME))  # 84.99 %: 50 and 80 at once
    deliver(usage_event(developer, 1_00, "u-3", TIME))
    deliver(usage_event(developer, 35_00, "u-2", TIME))  # a redelivery

    events = crossed()
    assert sorted(e["detail"]["threshold_percent"] for e in events) == [50, 80]
    assert events[0]["detail"]["spent_cents"] == 84_99
    assert {e["detail-type"] for e in events} == {"SpendingThresholdCrossed"}
    subjects = sorted(m.subject for m in messages_to("dev@example.com"))
    assert subjects == ["Spending alert: 50% of this month's limit", "Spending alert: 80% of this month's limit"]
    view = _spending(developer)
    assert [(a["percent"], a["spent_cents"]) for a in view["alerts_crossed"]] == [(50, 84_99), (80, 84_99)]
    assert view["spent_cents"] == 85_99


def test_chosen_thresholds_replace_the_defaults(developer: str, crossed: Any) -> None:
    assert _alerts(developer, "put", {"thresholds": [90, 25]}) == (200, {"thresholds": [25, 90]})
    assert _alerts(developer) == (200, {"thresholds": [25, 90]})

    deliver(usage_event(developer, 60_00, "u-1", TIME))

    assert [e["detail"]["threshold_percent"] for e in crossed()] == [25]
    assert _alerts(developer, "put", {"thresholds": []}) == (200, {"thresholds": []})
    deliver(usage_event(developer, 35_00, "u-2", TIME))
    assert crossed() == []


@pytest.mark.parametrize(
    "body",
    [
        {"thresholds": [0]},
        {"thresholds": [101]},
        {"thresholds": [50, 50]},
        {"thresholds": [1, 2, 3, 4, 5, 6]},
        {"thresholds": ["50"]},
        {},
    ],
)
def test_bad_thresholds_are_422_and_change_nothing(developer: str, body: Any) -> None:
    assert _alerts(developer, "put", body)[0] == 422
    assert _alerts(developer) == (200, {"thresholds": [50, 80, 100]})


def test_concurrent_usage_crosses_a_threshold_exactly_once(developer: str, crossed: Any) -> None:
    sent: list[Message] = []

    def service() -> SpendingService:
        table_ = Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
        accounts = AccountStore(table_)
        alerts = SpendingAlerts(
            accounts,
            AlertStore(table_),
            publish=EventPublisher(boto3.client("events"), BUS, "SpendingThresholdCrossed"),
            send=sent.append,
            recipient=lambda _: "dev@example.com",
            web_app_url="https://app.example.com",
        )
        publish = EventPublisher(boto3.client("events"), BUS, "SpendingLimitReached")
        return SpendingService(accounts, SpendStore(table_), publish, alerts=alerts.check)

    threads = 8
    services = [service() for _ in range(threads)]
    barrier = Barrier(threads)

    def record(i: int) -> bool:
        barrier.wait()
        usage = Usage(developer, 7_00, f"c-{i}", "inference", NOW.strftime("%Y-%m"), f"m-{i}")
        return services[i].record_batch([usage]).counted == 1

    with ThreadPoolExecutor(threads) as pool:
        assert all(pool.map(record, range(threads)))

    assert sorted(e["detail"]["threshold_percent"] for e in crossed()) == [50]
    assert [m.subject for m in sent] == ["Spending alert: 50% of this month's limit"]
    marks = [i for i in table.all_items() if "#ALERT#" in i["SK"]]
    assert [m["percent"] for m in marks] == [50]


def test_a_failed_publish_gives_the_alert_back_for_the_retry(
    developer: str, crossed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.usage_recorder import app as recorder  # noqa: PLC0415

    client = recorder.spending().publish.client  # type: ignore[attr-defined]
    with monkeypatch.context() as patched:
        patched.setattr(client, "put_events", lambda **_: (_ for _ in ()).throw(ConnectionError("unreachable")))
        assert failed_ids(deliver(usage_event(developer, 60_00, "u-1", TIME))) != []  # comes again
    assert [i for i in table.all_items() if "#ALERT#" in i["SK"]] == []
    assert messages_to("dev@example.com") == []

    assert failed_ids(deliver(usage_event(developer, 60_00, "u-1", TIME))) == []  # the queue's redelivery

    assert [e["detail"]["threshold_percent"] for e in crossed()] == [50]
    assert len(messages_to("dev@example.com")) == 1


def test_the_alert_email_goes_to_the_billing_email_when_there_is_one(developer: str, crossed: Any) -> None:
    table_ = Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
    from account_billing.billing.details.records import BillingDetails  # noqa: PLC0415
    from account_billing.billing.details.store import BillingDetailsStore  # noqa: PLC0415

    details = BillingDetails(sub=developer, version=1, updated_at="2026-11-01T00:00:00Z", email="ap@example.com")
    assert BillingDetailsStore(table_).save(details, 0)

    deliver(usage_event(developer, 50_00, "u-1", TIME))

    assert [m.subject for m in messages_to("ap@example.com")] == ["Spending alert: 50% of this month's limit"]
    assert messages_to("dev@example.com") == []
