"""The hourly sweeper: only due holds are read (never a Scan), from every partition of the sharded
due index at once (the legacy single partition too), each is queued for the background worker
once a sweep, the worker releases them all, and the sweep stops in time before the Lambda timeout,
leaving the rest for the next run. Each sweep reports the age of the oldest due hold."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from account_billing.billing.cards.models import AddPaymentMethodRequest
from account_billing.billing.holds.records import (
    DUE_SHARDS,
    LEGACY_DUE_PARTITION,
    due_partition,
    due_partitions,
    due_sort_key,
    hold_key,
)
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.holds.sweeper import Sweeper
from account_billing.core.clock import timestamp_to_second as timestamp
from account_billing.core.identity import Caller
from account_billing.core.table import Table
from stripe_simulator import Simulator
from tests.support.billing import (
    Cards,
    drain_tasks,
    holds,
    invoke_release,
    later,
    new_context,
    new_service,
    new_table,
    queued_tasks,
)

pytestmark = pytest.mark.usefixtures("billing")


def _due_holds(count: int) -> list[str]:
    """`count` accounts, each with a card whose hold was placed two days ago (due now)."""
    subs = []
    for i in range(count):
        sub = f"user-{i}"
        Cards(sub).create_account(f"user_{i}")
        new_service(clock=later(days=-2)).add(
            Caller(sub), AddPaymentMethodRequest(payment_method="pm_card_visa"), f"key-{uuid.uuid4()}"
        )
        subs.append(sub)
    drain_tasks()  # the new cards' default at Stripe
    return subs


def _filler(table: Table, count: int) -> None:
    """Items the sweeper must never read: holds due later, released holds, other items."""
    future = timestamp(datetime.now(UTC) + timedelta(days=3))
    for i in range(count):
        hold_id = f"hold_{uuid.uuid4().hex}"
        base = {**hold_key(f"other-{i}", hold_id), "entity": "hold", "sub": f"other-{i}", "hold_id": hold_id}
        if i % 3 == 0:
            table.put(
                base | {"status": "held", "GSI1PK": due_partition(hold_id), "GSI1SK": due_sort_key(future, hold_id)}
            )
        elif i % 3 == 1:
            table.put(base | {"status": "released", "outcome": "canceled"})
        else:
            table.put({"PK": f"ACCOUNT#other-{i}", "SK": "PROFILE", "entity": "account"})


class ReadCounter:
    """Items DynamoDB read for the sweeper's queries (ScannedCount), and any Scan."""

    def __init__(self, client: Any) -> None:
        self.items = 0
        self.operations: list[str] = []
        client.meta.events.register("after-call.dynamodb", self)

    def __call__(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        self.operations.append(model.name)
        if model.name in ("Query", "Scan"):
            self.items += parsed.get("ScannedCount", 0)


def _sweeper(client: Any = None, **kwargs: Any) -> Sweeper:
    table = Table(client or boto3.client("dynamodb"), new_table().name)
    return Sweeper(HoldStore(table), new_context().tasks, **kwargs)


def test_holds_spread_over_the_shards_of_the_due_index() -> None:
    partitions = Counter(due_partition(f"hold_{uuid.uuid4().hex}") for _ in range(800))

    assert set(partitions) == {f"HOLD#{n}" for n in range(DUE_SHARDS)}
    assert max(partitions.values()) < 2 * 800 / DUE_SHARDS  # evenly: none takes twice its share
    assert due_partitions()[-1] == LEGACY_DUE_PARTITION  # the sweeper reads the old partition too


def test_a_new_hold_is_indexed_in_its_shard(stripe_sim: Simulator) -> None:
    Cards("user-ada").create_account("ada")
    Cards("user-ada").add("pm_card_visa")

    [hold] = holds()

    assert hold["GSI1PK"] == due_partition(hold["hold_id"]) != LEGACY_DUE_PARTITION
    assert hold["GSI1SK"] == due_sort_key(hold["release_at"], hold["hold_id"])


def test_the_sweeper_reads_only_the_due_holds_and_queues_each_once(stripe_sim: Simulator) -> None:
    subs = _due_holds(6)
    _filler(new_table(), 60)
    client = boto3.client("dynamodb")
    counter = ReadCounter(client)

    report = _sweeper(client).sweep(lambda: 300_000)

    assert (report.due, report.queued, report.stopped_early) == (6, 6, False)
    assert counter.items == 6  # one item read per due hold, whatever else the table holds
    assert "Scan" not in counter.operations
    assert len(report.partitions) == DUE_SHARDS + 1  # every shard and the legacy partition, read at once
    assert sorted(t["release"]["account"] for t in queued_tasks()) == sorted(subs)


def test_the_queued_releases_are_made_by_the_worker(stripe_sim: Simulator) -> None:
    subs = _due_holds(4)
    _sweeper().sweep(lambda: 300_000)

    answers = drain_tasks()

    assert [a["batchItemFailures"] for a in answers] == [[]]
    assert {h["sub"]: h["status"] for h in holds()} == dict.fromkeys(subs, "released")
    assert {i["status"] for i in stripe_sim.all("payment_intent")} == {"canceled"}


def test_a_hold_of_the_legacy_partition_is_swept_too(stripe_sim: Simulator) -> None:
    [sub] = _due_holds(1)
    [hold] = holds(sub)
    new_table().update(  # as holds recorded before the index was sharded carry it
        hold_key(sub, hold["hold_id"]),
        UpdateExpression="SET GSI1PK = :legacy",
        ExpressionAttributeValues={":legacy": {"S": LEGACY_DUE_PARTITION}},
    )

    report = _sweeper().sweep(lambda: 300_000)
    drain_tasks()

    assert report.queued == 1
    assert [p.due for p in report.partitions if p.partition == LEGACY_DUE_PARTITION] == [1]
    assert holds(sub)[0]["status"] == "released"
    assert "GSI1PK" not in holds(sub)[0]


def test_the_sweep_schedule_queues_every_due_hold_and_reports_the_oldest(stripe_sim: Simulator) -> None:
    _due_holds(3)
    oldest = min(h["release_at"] for h in holds())

    result = invoke_release({"sweep": True})

    assert (result["due"], result["queued"], result["stopped_early"]) == (3, 3, False)
    age = (datetime.now(UTC) - datetime.fromisoformat(oldest.replace("Z", "+00:00"))).total_seconds()
    assert age - 60 <= result["oldest_due_age_seconds"] <= age + 60  # a day's delay, less two days' age
    assert result["oldest_due_age_seconds"] > 23 * 3600


def test_each_sweep_publishes_the_age_of_the_oldest_due_hold(
    stripe_sim: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert invoke_release({"sweep": True})["due"] == 0  # nothing due: the age is 0
    _due_holds(2)
    capsys.readouterr()

    invoke_release({"sweep": True})

    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "OldestDueHoldAgeSeconds" in line]
    [definition] = emf["_aws"]["CloudWatchMetrics"]
    assert {"Name": "OldestDueHoldAgeSeconds", "Unit": "Seconds"} in definition["Metrics"]
    [age] = emf["OldestDueHoldAgeSeconds"]
    assert age > 23 * 3600
    assert all("account" not in dimensions for dimensions in definition["Dimensions"])


def test_the_sweeper_stops_before_the_lambda_timeout_and_the_next_run_finishes(stripe_sim: Simulator) -> None:
    _due_holds(5)
    time_left = iter([300_000, 300_000, 20_000])  # time runs out after two holds

    first = _sweeper().sweep(lambda: next(time_left, 0))
    drain_tasks()

    assert (first.due, first.queued, first.stopped_early) == (2, 2, True)
    assert sum(h["status"] == "held" for h in holds()) == 3
    second = invoke_release({"sweep": True})
    drain_tasks()
    assert (second["queued"], second["stopped_early"]) == (3, False)
    assert {h["status"] for h in holds()} == {"released"}


def test_a_hold_not_yet_due_is_left_alone(stripe_sim: Simulator) -> None:
    Cards("user-ada").create_account("ada")
    Cards("user-ada").add("pm_card_visa")

    assert invoke_release({"sweep": True})["due"] == 0
    assert [t for t in queued_tasks() if "release" in t] == []
    assert holds()[0]["status"] == "held"
    assert [i["status"] for i in stripe_sim.all("payment_intent")] == ["requires_capture"]
