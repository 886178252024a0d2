"""Spending: usage events counted once, the limit event published once a month, the spending
view and limit-increase requests. Against moto's DynamoDB and EventBridge (with an SQS queue
subscribed to the bus to read what was published)."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from account_billing.accounts.store import AccountStore
from account_billing.core.events import EventPublisher
from account_billing.core.table import Table
from account_billing.spending.service import MAX_OPEN_LIMIT_REQUESTS, SpendingService
from account_billing.spending.store import SpendStore
from functions.spending import app as spending_app
from functions.usage_recorder import app as recorder
from tests.activity.support import entries as activity_entries
from tests.support import table
from tests.support.emf import EmittedMetrics
from tests.support.events import EVENTS, LambdaContext, call, http_event
from tests.support.profile import ProfileClient

BUS = "test-usage"
SAMPLE = json.loads((EVENTS / "usage_recorder" / "usage_recorded.json").read_text())


@pytest.fixture
def bus(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """The usage bus, with a queue that receives every SpendingLimitReached published on it."""
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="published")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="limit-reached", EventBusName=BUS, EventPattern=json.dumps({"detail-type": ["SpendingLimitReached"]})
    )
    events.put_targets(Rule="limit-reached", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": queue_arn}])
    monkeypatch.setenv("EVENT_BUS_NAME", BUS)

    def published() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return published


def usage_event(sub: str, amount: int, usage_id: str, time: str = "2026-11-28T14:00:00Z") -> dict[str, Any]:
    event = copy.deepcopy(SAMPLE)
    event["detail"] = {"account": sub, "amount_cents": amount, "idempotency_id": usage_id}
    event["time"] = time
    return dict(event)


def deliver(event: dict[str, Any]) -> Any:
    return recorder.lambda_handler(event, LambdaContext())


def set_plan(sub: str, plan: str) -> None:
    boto3.client("dynamodb").update_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"PK": {"S": f"ACCOUNT#{sub}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET #plan = :plan",
        ExpressionAttributeNames={"#plan": "plan"},
        ExpressionAttributeValues={":plan": {"S": plan}},
    )


@pytest.fixture
def developer(bus: Any) -> str:
    """An account on the Developer plan ($100 a month)."""
    ProfileClient("sub-dev").create("dev_account")
    set_plan("sub-dev", "developer")
    return "sub-dev"


def spend(sub: str, month: str = "2026-11") -> int:
    item = table.item(f"ACCOUNT#{sub}", f"SPEND#{month}")
    return int(item["spent_cents"]) if item else 0


def test_usage_adds_to_the_months_spend_and_a_redelivery_counts_once(developer: str) -> None:
    assert deliver(usage_event(developer, 1250, "u-1")) == {"counted": True}
    assert deliver(usage_event(developer, 1250, "u-1")) == {"counted": False}
    assert deliver(usage_event(developer, 300, "u-2")) == {"counted": True}
    assert spend(developer) == 1550


def test_usage_is_counted_in_the_month_it_happened(developer: str) -> None:
    deliver(usage_event(developer, 100, "u-1", time="2026-10-31T23:59:59Z"))
    deliver(usage_event(developer, 200, "u-2", time="2026-11-01T00:00:00Z"))
    assert (spend(developer, "2026-10"), spend(developer, "2026-11")) == (100, 200)


def test_usage_of_an_unknown_or_deleted_account_is_dropped(bus: Any) -> None:
    ProfileClient("sub-gone").create("gone_account")
    ProfileClient("sub-gone").delete("gone_account")
    before = table.all_items()
    assert deliver(usage_event("sub-gone", 500, "u-1")) == {"counted": False}
    assert deliver(usage_event("sub-never", 500, "u-2")) == {"counted": False}
    assert table.all_items() == before


@pytest.mark.parametrize(
    "detail",
    [
        {"account": "sub-dev", "amount_cents": -5, "idempotency_id": "u-1"},
        {"account": "sub-dev", "amount_cents": "100", "idempotency_id": "u-1"},
        {"account": "sub-dev", "amount_cents": 100},
        {"account": "", "amount_cents": 100, "idempotency_id": "u-1"},
        {"account": "sub-dev", "amount_cents": 100, "idempotency_id": "has spaces"},
    ],
)
def test_a_malformed_usage_event_fails_loudly_and_counts_nothing(developer: str, detail: dict[str, Any]) -> None:
    event = usage_event(developer, 0, "x")
    event["detail"] = detail
    with pytest.raises(ValidationError):
        deliver(event)
    assert spend(developer) == 0


def test_reaching_the_limit_publishes_one_event_for_the_month(developer: str, bus: Any) -> None:
    deliver(usage_event(developer, 60_00, "u-1"))
    assert bus() == []
    deliver(usage_event(developer, 40_00, "u-2"))  # exactly $100: reached
    deliver(usage_event(developer, 5_00, "u-3"))
    deliver(usage_event(developer, 40_00, "u-2"))  # a redelivery
    [event] = bus()
    assert event["detail-type"] == "SpendingLimitReached"
    assert event["source"] == "account-billing"
    assert event["detail"] == {
        "account": developer,
        "month": "2026-11",
        "plan": "developer",
        "limit_cents": 100_00,
        "spent_cents": 100_00,
    }
    # a new month starts afresh
    deliver(usage_event(developer, 100_00, "u-4", time="2026-12-02T00:00:00Z"))
    assert [e["detail"]["month"] for e in bus()] == ["2026-12"]


def test_the_free_plan_reaches_its_limit_with_the_first_cent(bus: Any) -> None:
    ProfileClient("sub-free").create("free_account")
    deliver(usage_event("sub-free", 0, "u-0"))
    assert bus() == []
    deliver(usage_event("sub-free", 1, "u-1"))
    assert [e["detail"]["limit_cents"] for e in bus()] == [0]


def test_concurrent_events_crossing_the_limit_publish_once(developer: str, bus: Any) -> None:
    def service() -> SpendingService:
        table_ = Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
        publish = EventPublisher(boto3.client("events"), BUS, "SpendingLimitReached")
        return SpendingService(AccountStore(table_), SpendStore(table_), publish)

    from account_billing.spending.models import UsageRecorded  # noqa: PLC0415

    threads = 8
    services = [service() for _ in range(threads)]
    barrier = Barrier(threads)
    moment = datetime(2026, 11, 28, tzinfo=UTC)

    def record(i: int) -> bool:
        barrier.wait()
        usage = UsageRecorded(account=developer, amount_cents=25_00, idempotency_id=f"c-{i}")
        return services[i].record_usage(usage, "inference", moment)

    with ThreadPoolExecutor(threads) as pool:
        assert all(pool.map(record, range(threads)))
    assert spend(developer) == 200_00
    assert len(bus()) == 1


def test_when_publishing_fails_the_event_fails_and_its_redelivery_publishes(
    developer: str, bus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(usage_event(developer, 90_00, "u-1"))
    client = recorder.spending().publish.client  # type: ignore[attr-defined]

    def unavailable(**_: Any) -> None:
        raise ConnectionError("EventBridge unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(client, "put_events", unavailable)
        with pytest.raises(ConnectionError):
            deliver(usage_event(developer, 20_00, "u-2"))
    assert "limit_reached_at" not in (table.item(f"ACCOUNT#{developer}", "SPEND#2026-11") or {})
    assert bus() == []
    # EventBridge retries the event: it counts nothing more, and the limit is published now
    assert deliver(usage_event(developer, 20_00, "u-2")) == {"counted": False}
    assert spend(developer) == 110_00
    assert [e["detail"]["spent_cents"] for e in bus()] == [110_00]


# ------------------------------------------------------------------ the spending view


def test_the_spending_view_shows_month_to_date_against_the_limit(developer: str) -> None:
    now = datetime.now(UTC)
    deliver(usage_event(developer, 25_00, "u-1", time=now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    status, headers, body = call(spending_app.lambda_handler, http_event("spending/get_spending", sub=developer))
    assert status == 200
    assert headers["cache-control"] == "no-store"
    assert body == {
        "month": now.strftime("%Y-%m"),
        "plan": "developer",
        "spent_cents": 25_00,
        "limit_cents": 100_00,
        "share_used": 0.25,
        "reached": False,
        "reached_at": None,
    }


def test_the_spending_view_needs_an_account(bus: Any) -> None:
    status, _, body = call(spending_app.lambda_handler, http_event("spending/get_spending", sub="sub-nobody"))
    assert status == 404
    assert body["type"].endswith("account-not-found")


# ------------------------------------------------------------------ limit-increase requests


def ask(sub: str, body: Any) -> tuple[int, dict[str, str], Any]:
    return call(spending_app.lambda_handler, http_event("spending/request_limit_increase", sub=sub, body=body))


def listing(sub: str, **query: str) -> tuple[int, dict[str, str], Any]:
    event = http_event("spending/list_limit_requests", sub=sub)
    event["queryStringParameters"] = query or None
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    return call(spending_app.lambda_handler, event)


def test_a_limit_request_is_recorded_and_listed_newest_first_page_by_page(developer: str) -> None:
    for amount in (200_000, 300_000, 400_000):
        status, _, body = ask(developer, {"amount_cents": amount, "reason": "  Quarter-end  batch "})
        assert status == 201
        assert body["status"] == "open"
        assert body["reason"] == "Quarter-end  batch"
    status, _, first = listing(developer, limit="2")
    assert status == 200
    assert [r["amount_cents"] for r in first["requests"]] == [400_000, 300_000]
    assert first["next_cursor"]
    _, _, second = listing(developer, limit="2", cursor=first["next_cursor"])
    assert [r["amount_cents"] for r in second["requests"]] == [200_000]
    assert second["next_cursor"] is None
    # the plan's limit itself does not change
    assert table.item(f"ACCOUNT#{developer}", "PROFILE")["plan"] == "developer"  # type: ignore[index]


def test_a_limit_request_is_in_the_activity_log_and_a_refused_one_is_not(developer: str) -> None:
    for _ in range(6):  # the sixth open request is refused
        ask(developer, {"amount_cents": 200_000, "reason": "Launch"})

    logged = [e for e in activity_entries(developer) if e["kind"] == "spending.limit_requested"]

    assert len(logged) == 5
    assert logged[0]["details"] == {"amount": "200000", "currency": "usd"}
    assert logged[0]["actor"] == "user"


def test_a_cursor_never_reaches_another_account(developer: str) -> None:
    ProfileClient("sub-other").create("other_account")
    ask("sub-other", {"amount_cents": 900_000, "reason": "mine"})
    ask(developer, {"amount_cents": 200_000, "reason": "a"})
    ask(developer, {"amount_cents": 300_000, "reason": "b"})
    _, _, page = listing(developer, limit="1")
    _, _, other = listing("sub-other", cursor=page["next_cursor"])
    # the cursor only positions the caller's own list: it yields the caller's requests, never the other account's
    assert [r["reason"] for r in other["requests"]] == ["mine"]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJhZnRlciI6ICJQUk9GSUxFIn0", "eyJ4IjogMX0"])
def test_a_bad_cursor_is_400(developer: str, cursor: str) -> None:
    status, _, body = listing(developer, cursor=cursor)
    assert status == 400
    assert body["type"].endswith("invalid-cursor")


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"amount_cents": 0, "reason": "x"}, "#/amount_cents"),
        ({"amount_cents": 10**12, "reason": "x"}, "#/amount_cents"),
        ({"amount_cents": "100", "reason": "x"}, "#/amount_cents"),
        ({"amount_cents": 100, "reason": "x" * 1001}, "#/reason"),
        ({"amount_cents": 100, "reason": "bell\x07"}, "#/reason"),
        ({"amount_cents": 100, "reason": "x", "approved": True}, "#/approved"),
    ],
)
def test_a_bad_limit_request_is_422_and_stores_nothing(developer: str, payload: dict[str, Any], pointer: str) -> None:
    before = table.all_items()
    status, _, body = ask(developer, payload)
    assert status == 422
    assert pointer in [e.get("pointer") for e in body["errors"]]
    assert table.all_items() == before


def test_open_limit_requests_are_capped(developer: str) -> None:
    for i in range(MAX_OPEN_LIMIT_REQUESTS):
        assert ask(developer, {"amount_cents": 200_000 + i, "reason": "again"})[0] == 201
    status, _, body = ask(developer, {"amount_cents": 999_999, "reason": "again"})
    assert status == 409
    assert body["type"].endswith("limit-requests-exceeded")


def test_a_limit_request_needs_an_account(bus: Any) -> None:
    status, _, _ = ask("sub-nobody", {"amount_cents": 200_000, "reason": "x"})
    assert status == 404
    assert table.all_items() == []


def test_deleting_the_account_erases_its_spend_and_requests(developer: str) -> None:
    deliver(usage_event(developer, 10_00, "u-1"))
    ask(developer, {"amount_cents": 200_000, "reason": "x"})
    assert ProfileClient(developer).delete("dev_account")[0] == 204
    left = [sk for pk, sk in table.key_pairs() if pk == f"ACCOUNT#{developer}"]
    assert left == ["TOMBSTONE"]


def test_usage_counted_limits_reached_and_publishing_failures_are_metrics(
    developer: str, bus: Any, monkeypatch: pytest.MonkeyPatch, emitted_metrics: EmittedMetrics
) -> None:
    deliver(usage_event(developer, 90_00, "u-1"))
    client = recorder.spending().publish.client  # type: ignore[attr-defined]

    def unreachable(**_: Any) -> None:
        raise ConnectionError("EventBridge unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(client, "put_events", unreachable)
        with pytest.raises(ConnectionError):
            deliver(usage_event(developer, 20_00, "u-2"))
    deliver(usage_event(developer, 20_00, "u-2"))  # EventBridge's retry: published now

    assert emitted_metrics.values("UsageRecorded") == [1.0, 1.0]
    assert emitted_metrics.values("SpendingEventPublishFailed") == [1.0]
    assert emitted_metrics.values("SpendingLimitReached") == [1.0]
