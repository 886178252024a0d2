"""Spending: usage charges counted once, the limit event published once a month, the spending
view and limit-increase requests. Against moto's DynamoDB and EventBridge (with an SQS queue
subscribed to the bus to read what was published); the recorder gets its batches as the usage
queue's event source hands them over."""

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
from account_billing.core.identity import Caller
from account_billing.core.table import Table
from account_billing.spending.service import MAX_OPEN_LIMIT_REQUESTS, SpendingService, Usage
from account_billing.spending.store import SpendStore
from functions.spending import app as spending_app
from functions.usage_recorder import app as recorder
from tests.activity.support import entries as activity_entries
from tests.support import table
from tests.support.concurrency import race
from tests.support.emf import EmittedMetrics
from tests.support.events import LambdaContext, call, http_event
from tests.support.profile import ProfileClient
from tests.support.usage import batch_event, charge, deliver, failed_ids, header, spend, usage_event

BUS = "test-usage"


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


def test_usage_adds_to_the_months_spend_and_a_redelivery_counts_once(developer: str) -> None:
    assert deliver(usage_event(developer, 1250, "u-1")) == {"batchItemFailures": []}
    assert deliver(usage_event(developer, 1250, "u-1")) == {"batchItemFailures": []}  # counted before
    deliver(usage_event(developer, 300, "u-2"))
    assert spend(developer) == 1550


def test_usage_is_counted_in_the_month_it_happened(developer: str) -> None:
    deliver(usage_event(developer, 100, "u-1", time="2026-10-31T23:59:59Z"))
    deliver(usage_event(developer, 200, "u-2", time="2026-11-01T00:00:00Z"))
    assert (spend(developer, "2026-10"), spend(developer, "2026-11")) == (100, 200)


def test_usage_of_an_unknown_or_deleted_account_is_dropped(bus: Any) -> None:
    ProfileClient("sub-gone").create("gone_account")
    ProfileClient("sub-gone").delete("gone_account")
    before = table.all_items()
    assert deliver(usage_event("sub-gone", 500, "u-1"), usage_event("sub-never", 500, "u-2")) == {
        "batchItemFailures": []
    }
    assert table.all_items() == before


@pytest.mark.parametrize(
    "detail",
    [
        {"account": "sub-dev", "amount_cents": -5, "idempotency_id": "u-1"},
        {"account": "sub-dev", "amount_cents": "100", "idempotency_id": "u-1"},
        {"account": "sub-dev", "amount_cents": 100},
        {"account": "", "amount_cents": 100, "idempotency_id": "u-1"},
        {"account": "sub-dev", "amount_cents": 100, "idempotency_id": "has spaces"},
        {"records": []},
        {"records": [{"account": "sub-dev", "amount_cents": 1, "idempotency_id": "u-1"}, {"account": "sub-dev"}]},
        {"account": "sub-dev", "amount_cents": 1, "idempotency_id": "u-1", "occurred_at": "2026-11-28T14:00:00"},
    ],
)
def test_a_malformed_usage_event_is_handed_back_and_counts_nothing(developer: str, detail: dict[str, Any]) -> None:
    poisoned = usage_event(developer, 0, "x")
    poisoned["detail"] = detail
    fine = usage_event(developer, 700, "u-fine")

    answer = deliver(poisoned, fine, "not json at all")

    assert len(failed_ids(answer)) == 2  # the malformed one and the one that is not an event
    assert spend(developer) == 700  # the rest of the batch is counted


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


def test_concurrent_batches_crossing_the_limit_publish_once(developer: str, bus: Any) -> None:
    def service() -> SpendingService:
        table_ = Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
        publish = EventPublisher(boto3.client("events"), BUS, "SpendingLimitReached")
        return SpendingService(AccountStore(table_), SpendStore(table_), publish)

    threads = 8
    services = [service() for _ in range(threads)]
    barrier = Barrier(threads)

    def record(i: int) -> int:
        usages = [Usage(developer, 12_50, f"c-{i}-{n}", "inference", "2026-11", f"m-{i}") for n in range(2)]
        barrier.wait()
        outcome = services[i].record_batch(usages)
        assert not outcome.failed_messages
        return outcome.counted

    with ThreadPoolExecutor(threads) as pool:
        assert sum(pool.map(record, range(threads))) == 2 * threads
    assert spend(developer) == 200_00
    assert len(bus()) == 1


def test_when_publishing_fails_the_message_comes_again_and_its_redelivery_publishes(
    developer: str, bus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(usage_event(developer, 90_00, "u-1"))
    client = recorder.spending().publish.client  # type: ignore[attr-defined]

    def unavailable(**_: Any) -> None:
        raise ConnectionError("EventBridge unreachable")

    crossing = usage_event(developer, 20_00, "u-2")
    with monkeypatch.context() as patched:
        patched.setattr(client, "put_events", unavailable)
        assert len(failed_ids(deliver(crossing))) == 1  # handed back to the queue
    assert "limit_reached_at" not in header(developer)
    assert bus() == []
    # the queue delivers it again: it counts nothing more, and the limit is published now
    assert deliver(crossing) == {"batchItemFailures": []}
    assert spend(developer) == 110_00
    assert [e["detail"]["spent_cents"] for e in bus()] == [110_00]


def test_an_event_sent_straight_to_the_function_is_counted_or_raised(developer: str) -> None:
    """EventBridge invoked the function itself before its rule targeted the queue: an event still
    in flight at the change is counted, and a failure raises for EventBridge to retry."""
    assert recorder.lambda_handler(usage_event(developer, 500, "u-direct"), LambdaContext()) == {"counted": 1}
    assert spend(developer) == 500
    with pytest.raises(recorder.UsageNotCounted):
        recorder.lambda_handler({**usage_event(developer, 1, "u-bad"), "detail": {}}, LambdaContext())


def test_a_batch_of_charges_in_one_event_is_counted_per_account_and_month(developer: str, bus: Any) -> None:
    ProfileClient("sub-other").create("other_account")
    event = batch_event(
        [
            charge(developer, 10, "b-1"),
            charge(developer, 20, "b-2", occurred_at="2026-10-31T23:00:00Z"),
            charge("sub-other", 30, "b-3"),
            charge("sub-nobody", 40, "b-4"),
        ]
    )

    assert deliver(event) == {"batchItemFailures": []}

    assert (spend(developer), spend(developer, "2026-10"), spend("sub-other")) == (10, 20, 30)


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
        "alerts_crossed": [],  # 25 %: no threshold yet
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


def test_concurrent_limit_requests_never_get_past_the_cap(developer: str) -> None:
    # (found: the open requests were counted, then the new one written: 10 concurrent stored 10)
    from account_billing.spending.models import LimitIncreaseRequest  # noqa: PLC0415

    def container() -> SpendingService:
        table_ = Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
        return SpendingService(AccountStore(table_), SpendStore(table_), lambda _: None)

    request = LimitIncreaseRequest(amount_cents=500_000, reason="launch")
    statuses = race([lambda s: s.request_increase(Caller(developer), request)] * 10, container)

    assert sorted(statuses) == [200] * MAX_OPEN_LIMIT_REQUESTS + [409] * (10 - MAX_OPEN_LIMIT_REQUESTS)
    stored = [
        i for i in table.all_items() if i["PK"] == f"ACCOUNT#{developer}" and i["SK"].startswith("LIMIT_REQUEST#")
    ]
    assert len(stored) == MAX_OPEN_LIMIT_REQUESTS
    assert table.item(f"ACCOUNT#{developer}", "PROFILE")["open_limit_requests"] == MAX_OPEN_LIMIT_REQUESTS  # type: ignore[index]


def test_a_limit_request_needs_an_account(bus: Any) -> None:
    status, _, _ = ask("sub-nobody", {"amount_cents": 200_000, "reason": "x"})
    assert status == 404
    assert table.all_items() == []


def test_deleting_the_account_erases_its_spend_and_requests(developer: str) -> None:
    deliver(usage_event(developer, 10_00, "u-1"))
    assert spend(developer) == 10_00
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
        assert failed_ids(deliver(usage_event(developer, 20_00, "u-2"))) != []  # the message comes again
    assert failed_ids(deliver(usage_event(developer, 20_00, "u-2"))) == []  # SQS's redelivery: published now

    # u-2 was added to the spend on its first delivery (its group failed on the publish, so it is
    # not counted as recorded then); the redelivery finds it counted and publishes the limit event
    assert emitted_metrics.values("UsageRecorded") == [1.0]
    assert emitted_metrics.values("UsageRepeated") == [1.0]
    assert emitted_metrics.values("UsageMessagesFailed") == [1.0]
    assert emitted_metrics.values("SpendingEventPublishFailed") == [1.0]
    assert emitted_metrics.values("SpendingLimitReached") == [1.0]
