"""Usage ingestion at scale: the bus's rule puts UsageRecorded events on the usage queue, the
recorder takes them in batches and counts them per account; nothing is lost and nothing is
counted twice through replays, duplicates, throttled writes, conflicting transactions and
poisoned messages (which end in the dead-letter queue)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from account_billing.core.wiring import dynamodb_client
from account_billing.spending.models import MAX_RECORDS_PER_EVENT
from account_billing.spending.records import SPEND_SHARDS, usage_marker_key
from account_billing.spending.store import CONFLICT_ATTEMPTS
from functions.spending import app as spending_app
from functions.usage_recorder import app as recorder
from tests.spending.test_spending import set_plan
from tests.support import table
from tests.support.events import call, http_event
from tests.support.profile import ProfileClient
from tests.support.queues import poll, queue_arn, waiting
from tests.support.usage import batch_event, charge, deliver, failed_ids, spend, usage_event

BUS = "test-usage"


@pytest.fixture
def accounts(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three accounts on the Professional plan (limit $500) and the usage bus."""
    boto3.client("events").create_event_bus(Name=BUS)
    monkeypatch.setenv("EVENT_BUS_NAME", BUS)
    subs = ["sub-ada", "sub-bob", "sub-cy"]
    for sub in subs:
        ProfileClient(sub).create(sub.replace("-", "_"))
        set_plan(sub, "professional")
    return subs


@contextmanager
def failing_transactions(answer: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Iterator[list[str]]:
    """The recorder's TransactWriteItems answered by `answer(params)` when it returns an error
    (a parsed DynamoDB error response), else sent to DynamoDB; yields the error codes given."""
    client = recorder.spending().spend.table.client
    given: list[str] = []

    class Refused:
        status_code = 400

    def before_call(params: dict[str, Any], **_: Any) -> Any:
        error = answer(json.loads(params["body"]))
        if error is None:
            return None
        given.append(error["Error"]["Code"])
        return Refused(), error

    client.meta.events.register_first("before-call.dynamodb.TransactWriteItems", before_call)
    try:
        yield given
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", before_call)


def _touches(params: Any, sub: str) -> bool:
    return f"ACCOUNT#{sub}" in json.dumps(params)


def _throttled() -> dict[str, Any]:
    return {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds"}}


def _conflict(params: dict[str, Any]) -> dict[str, Any]:
    count = len(params["TransactItems"])
    return {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [{"Code": "None"}] * (count - 1) + [{"Code": "TransactionConflict"}],
    }


# ------------------------------------------------------------------ replays and duplicates
def test_a_replayed_batch_counts_nothing_more(accounts: list[str]) -> None:
    ada, bob, _ = accounts
    batch = [usage_event(ada, 100, "r-1"), batch_event([charge(ada, 5, "r-2"), charge(bob, 7, "r-3")])]

    deliver(*batch)
    assert deliver(*batch) == {"batchItemFailures": []}  # the whole batch again

    assert (spend(ada), spend(bob)) == (105, 7)


def test_the_same_charge_twice_in_one_batch_counts_once(accounts: list[str]) -> None:
    ada = accounts[0]
    event = usage_event(ada, 250, "twice")

    assert deliver(event, event, batch_event([charge(ada, 250, "twice")])) == {"batchItemFailures": []}

    assert spend(ada) == 250


def test_a_charge_counted_before_is_dropped_and_the_rest_of_its_transaction_counted(accounts: list[str]) -> None:
    ada = accounts[0]
    deliver(usage_event(ada, 1, "c-3"))

    deliver(batch_event([charge(ada, 1, f"c-{n}") for n in range(6)]))

    assert spend(ada) == 6


# ------------------------------------------------------------------ the busy account
def test_a_busy_accounts_batch_is_a_few_transactions_over_the_spend_parts(accounts: list[str]) -> None:
    ada = accounts[0]
    events = [batch_event([charge(ada, 1, f"hot-{e}-{n}") for n in range(100)]) for e in range(5)]
    transactions: list[int] = []
    client = recorder.spending().spend.table.client
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", lambda **_: transactions.append(1))

    assert deliver(*events) == {"batchItemFailures": []}

    assert spend(ada) == 500
    assert len(transactions) == 6  # 500 charges, 99 a transaction (markers and one addition each)
    parts = [i for i in table.all_items() if i["PK"] == f"ACCOUNT#{ada}" and i["SK"].startswith("SPEND#2026-11#")]
    assert 1 < len(parts) <= SPEND_SHARDS
    assert all(int(p["expires_at"]) > 0 for p in parts)  # the month's parts expire a year after it


def test_the_spending_view_sums_the_parts_in_two_requests(accounts: list[str]) -> None:
    ada = accounts[0]
    requests: list[str] = []
    dynamodb_client().meta.events.register("before-call.dynamodb.*", lambda model, **_: requests.append(model.name))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    deliver(*[batch_event([charge(ada, 2, f"v-{e}-{n}") for n in range(99)], time=now) for e in range(3)])
    requests.clear()

    status, _, body = call(spending_app.lambda_handler, http_event("spending/get_spending", sub=ada))

    assert status == 200
    assert body["spent_cents"] == 594
    assert requests == ["GetItem", "Query"]


# ------------------------------------------------------------------ failures
def test_a_throttled_account_is_handed_back_and_the_others_counted(accounts: list[str]) -> None:
    ada, bob, cy = accounts
    ada_event, bob_event = usage_event(ada, 10, "t-1"), usage_event(bob, 20, "t-2")
    both = batch_event([charge(ada, 30, "t-3"), charge(cy, 40, "t-4")])

    with failing_transactions(lambda p: _throttled() if _touches(p, ada) else None) as given:
        answer = deliver(ada_event, bob_event, both)

    assert set(given) == {"ProvisionedThroughputExceededException"}
    assert len(failed_ids(answer)) == 2  # ada's own event, and the event she shares with cy
    assert (spend(ada), spend(bob), spend(cy)) == (0, 20, 40)
    # the queue delivers the two again: ada is counted, cy's charge is not counted twice
    assert deliver(ada_event, both) == {"batchItemFailures": []}
    assert (spend(ada), spend(bob), spend(cy)) == (40, 20, 40)


def test_a_conflicting_transaction_goes_again_on_another_part(accounts: list[str]) -> None:
    ada = accounts[0]
    parts: list[str] = []
    answers = iter([_conflict, _conflict])

    def answer(params: dict[str, Any]) -> dict[str, Any] | None:
        parts.append(params["TransactItems"][-1]["Update"]["Key"]["SK"]["S"])
        refuse = next(answers, None)
        return refuse(params) if refuse else None

    with failing_transactions(answer) as given:
        assert deliver(usage_event(ada, 75, "k-1")) == {"batchItemFailures": []}

    assert given == ["TransactionCanceledException"] * 2
    assert spend(ada) == 75
    assert len(parts) == 3


def test_transactions_that_keep_conflicting_hand_the_batch_back_with_nothing_counted(accounts: list[str]) -> None:
    ada = accounts[0]
    event = usage_event(ada, 75, "k-2")

    with failing_transactions(_conflict) as given:
        assert len(failed_ids(deliver(event))) == 1

    assert len(given) == CONFLICT_ATTEMPTS
    assert spend(ada) == 0
    marker = usage_marker_key(ada, "inference", "k-2")
    assert table.item(marker["PK"], marker["SK"]) is None  # no marker either
    assert deliver(event) == {"batchItemFailures": []}
    assert spend(ada) == 75


def test_an_event_of_too_many_charges_is_refused_whole(accounts: list[str]) -> None:
    ada = accounts[0]
    too_many = batch_event([charge(ada, 1, f"x-{n}") for n in range(MAX_RECORDS_PER_EVENT + 1)])

    assert len(failed_ids(deliver(too_many))) == 1
    assert spend(ada) == 0


# ------------------------------------------------------------------ through the bus and the queue
@pytest.fixture
def usage_queue(accounts: list[str]) -> dict[str, str]:
    """The template's path: the bus's rule to the usage queue, whose redrive policy moves a
    message received three times to the dead-letter queue (no visibility timeout: a message
    handed back comes at once)."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    dead = sqs.create_queue(QueueName="usage-dlq")["QueueUrl"]
    redrive = json.dumps({"deadLetterTargetArn": queue_arn(dead), "maxReceiveCount": 3})
    queue = sqs.create_queue(QueueName="usage", Attributes={"VisibilityTimeout": "0", "RedrivePolicy": redrive})[
        "QueueUrl"
    ]
    events.put_rule(Name="usage", EventBusName=BUS, EventPattern=json.dumps({"detail-type": ["UsageRecorded"]}))
    events.put_targets(Rule="usage", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": queue_arn(queue)}])
    return {"queue": queue, "dead": dead}


def _put(*events: dict[str, Any]) -> None:
    entries: list[Any] = [
        {
            "EventBusName": BUS,
            "Source": e["source"],
            "DetailType": e["detail-type"],
            "Detail": json.dumps(e["detail"]),
            "Time": datetime.fromisoformat(e["time"]),
        }
        for e in events
    ]
    boto3.client("events").put_events(Entries=entries)


def test_a_poisoned_message_ends_in_the_dead_letter_queue_and_nothing_counts_twice(
    accounts: list[str], usage_queue: dict[str, str]
) -> None:
    ada, bob, _ = accounts
    poisoned = usage_event(ada, 5, "p-1")
    poisoned["detail"] = {"account": ada, "amount_cents": "five", "idempotency_id": "p-1"}
    _put(usage_event(ada, 100, "q-1"), poisoned, batch_event([charge(bob, 3, "q-2"), charge(ada, 4, "q-3")]))

    answers = poll(usage_queue["queue"], recorder.lambda_handler, rounds=6)

    assert [len(a["batchItemFailures"]) for a in answers] == [1, 1, 1]  # received three times
    assert (spend(ada), spend(bob)) == (104, 3)
    [dead] = waiting(usage_queue["dead"])
    assert dead["detail"]["amount_cents"] == "five"
    # a replay of the dead-letter queue (after a fix, say) would count nothing that was counted
    assert deliver(usage_event(ada, 100, "q-1")) == {"batchItemFailures": []}
    assert spend(ada) == 104


def test_usage_markers_live_outside_the_account_and_expire(accounts: list[str]) -> None:
    ada = accounts[0]
    deliver(usage_event(ada, 9, "m-1"))

    [marker] = [i for i in table.all_items() if i["PK"].startswith("USAGE#")]
    assert marker == {
        **usage_marker_key(ada, "inference", "m-1"),
        "entity": "usage",
        "expires_at": marker["expires_at"],
    }
    assert ada not in json.dumps(marker)  # it holds nothing of the account
    assert ProfileClient(ada).delete("sub_ada")[0] == 204
    assert [i["SK"] for i in table.all_items() if i["PK"] == f"ACCOUNT#{ada}"] == ["TOMBSTONE"]
