"""The hourly sweeper: only due holds are read (never a Scan), they are all released, and it
stops in time before the Lambda timeout, leaving the rest for the next run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from account_billing.billing.cards.models import AddPaymentMethodRequest
from account_billing.billing.holds.records import DUE_PARTITION, due_sort_key, hold_key
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.holds.sweeper import Sweeper
from account_billing.core.clock import timestamp_to_second as timestamp
from account_billing.core.identity import Caller
from account_billing.core.table import Table
from stripe_simulator import Simulator
from tests.support.billing import Cards, holds, invoke_release, later, new_releaser, new_service, new_table

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
    return subs


def _filler(table: Table, count: int) -> None:
    """Items the sweeper must never read: holds due later, released holds, other items."""
    future = timestamp(datetime.now(UTC) + timedelta(days=3))
    for i in range(count):
        hold_id = f"hold_{uuid.uuid4().hex}"
        base = {**hold_key(f"other-{i}", hold_id), "entity": "hold", "sub": f"other-{i}", "hold_id": hold_id}
        if i % 3 == 0:
            table.put(base | {"status": "held", "GSI1PK": DUE_PARTITION, "GSI1SK": due_sort_key(future, hold_id)})
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


def test_the_sweeper_reads_only_the_due_holds_and_releases_them_all(stripe_sim: Simulator) -> None:
    subs = _due_holds(6)
    _filler(new_table(), 60)
    client = boto3.client("dynamodb")
    counter = ReadCounter(client)
    table = Table(client, new_table().name)

    report = Sweeper(HoldStore(table), new_releaser(), workers=3).sweep(lambda: 300_000)

    assert (report.due, report.released, report.failed) == (6, 6, 0)
    assert counter.items == 6  # one item read per due hold, whatever else the table holds
    assert "Scan" not in counter.operations
    assert {h["sub"]: h["status"] for h in holds() if h["sub"] in subs} == dict.fromkeys(subs, "released")
    assert {i["status"] for i in stripe_sim.all("payment_intent")} == {"canceled"}


def test_the_sweep_schedule_releases_every_due_hold(stripe_sim: Simulator) -> None:
    _due_holds(3)

    result = invoke_release({"sweep": True})

    assert result == {"due": 3, "released": 3, "skipped": 0, "failed": 0, "stopped_early": False}


def test_the_sweeper_stops_before_the_lambda_timeout_and_the_next_run_finishes(stripe_sim: Simulator) -> None:
    _due_holds(5)
    remaining = iter([300_000, 300_000, 20_000])  # time runs out after two holds

    first = Sweeper(HoldStore(new_table()), new_releaser(), workers=1).sweep(lambda: next(remaining, 0))

    assert (first.due, first.released, first.stopped_early) == (2, 2, True)
    assert sum(h["status"] == "held" for h in holds()) == 3
    second = invoke_release({"sweep": True})
    assert (second["released"], second["stopped_early"]) == (3, False)
    assert {h["status"] for h in holds()} == {"released"}


def test_a_hold_not_yet_due_is_left_alone(stripe_sim: Simulator) -> None:
    Cards("user-ada").create_account("ada")
    Cards("user-ada").add("pm_card_visa")

    assert invoke_release({"sweep": True})["due"] == 0
    assert holds()[0]["status"] == "held"
    assert [i["status"] for i in stripe_sim.all("payment_intent")] == ["requires_capture"]
