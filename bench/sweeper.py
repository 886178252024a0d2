"""The release sweeper over 10,000 due holds among 100,000 items, with Stripe's latency simulated
(DESIGN §10: items read grow with the holds due, not with the table; Stripe calls run
concurrently up to the configured rate, and a run stops before the Lambda timeout).

A run is one sweep (every shard of the due index read at once, each due hold's release queued)
and then one background worker container draining the queue of background Stripe work for the
rest of the function's timeout. Prints DynamoDB items read per due hold, Stripe calls per hold,
and throughput as a share of the configured rate (the holds a run leaves are the next run's).
DynamoDB and SQS are moto; Stripe is the offline simulator, answering each call after
BENCH_STRIPE_LATENCY seconds (default 0.05). The rate is the template's StripeBackgroundRate
default unless BENCH_SWEEP_RATE says otherwise; BENCH_SWEEP_HOLDS and BENCH_SWEEP_ITEMS change
the size (defaults 10000 and 100000).
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from account_billing.billing.context import BillingContext
from account_billing.billing.holds.records import due_partition, due_sort_key, hold_key
from account_billing.billing.holds.release import HoldReleaser
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.holds.sweeper import Sweeper
from account_billing.billing.settings import BillingSettings
from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.client import stripe_client
from account_billing.billing.stripe.gateway import StripeGateway
from account_billing.billing.stripe.ratelimit import RateLimiter, workers_for
from account_billing.billing.tasks import TaskQueue, TaskRunner
from account_billing.core.clock import timestamp_to_second as timestamp
from account_billing.core.observability import logger, metrics
from account_billing.core.table import Table, marshal
from account_billing.core.wiring import reset_containers
from local.template import create_tables, functions, load_template
from stripe_simulator import Simulator
from stripe_simulator.resources import customers, payment_intents
from tests.support.dynamodb_requests import environment
from tests.support.stripe import TEST_KEY

HOLDS = int(os.environ.get("BENCH_SWEEP_HOLDS", "10000"))
ITEMS = int(os.environ.get("BENCH_SWEEP_ITEMS", "100000"))
LATENCY = float(os.environ.get("BENCH_STRIPE_LATENCY", "0.05"))
MAX_RUNS = 10


def _template_rate() -> float:
    return float(os.environ.get("BENCH_SWEEP_RATE") or load_template()["Parameters"]["StripeBackgroundRate"]["Default"])


def _template_timeout() -> int:
    return functions(load_template())["PreauthReleaseFunction"].timeout


@dataclass(frozen=True)
class Run:
    due_read: int
    released: int
    items_read: int
    requests: Counter[str]
    stripe_calls: int
    seconds: float
    stopped_early: bool


@dataclass
class SweepBench:
    holds: int
    items: int
    rate: float
    latency: float
    timeout: int
    runs: list[Run] = field(default_factory=list)

    @property
    def released(self) -> int:
        return sum(r.released for r in self.runs)

    @property
    def items_read_per_due_hold(self) -> float:
        return sum(r.items_read for r in self.runs) / max(1, sum(r.due_read for r in self.runs))

    @property
    def stripe_calls_per_hold(self) -> float:
        return sum(r.stripe_calls for r in self.runs) / max(1, self.released)

    @property
    def share_of_rate(self) -> float:
        seconds = sum(r.seconds for r in self.runs)
        return sum(r.stripe_calls for r in self.runs) / seconds / self.rate if seconds else 0.0


class _Reads:
    """Items DynamoDB read (Query/Scan ScannedCount, GetItem) and requests, by operation."""

    def __init__(self) -> None:
        self.items = 0
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.requests[model.name] += 1
            if model.name in ("Query", "Scan"):
                self.items += int(parsed.get("ScannedCount", 0))
            elif model.name == "GetItem" and parsed.get("Item"):
                self.items += 1


def _seed_stripe(sim: Simulator, count: int) -> list[tuple[str, str]]:
    """`count` authorized holds at Stripe: (customer, PaymentIntent) pairs, made in-process."""

    def create() -> list[tuple[str, str]]:
        made = []
        for _ in range(count):
            customer = customers.create(sim, {})["id"]
            params = {
                "amount": "5000",
                "currency": "usd",
                "customer": customer,
                "payment_method": "pm_card_visa",
                "capture_method": "manual",
                "confirm": "true",
            }
            made.append((customer, payment_intents.create(sim, params)["id"]))
        return made

    pairs: list[tuple[str, str]] = sim.run(create)
    return pairs


def _seed_table(client: Any, name: str, stripe_holds: list[tuple[str, str]], items: int) -> None:
    """The due holds, then filler up to `items`: holds due later, released holds, other items."""
    now = datetime.now(UTC)
    past, future = timestamp(now - timedelta(hours=1)), timestamp(now + timedelta(days=2))
    rows: list[dict[str, Any]] = []
    for index, (customer, intent) in enumerate(stripe_holds):
        hold_id, sub = f"hold_{uuid.uuid4().hex}", f"bench-{index}"
        rows.append(
            {
                **hold_key(sub, hold_id),
                "entity": "hold",
                "sub": sub,
                "hold_id": hold_id,
                "status": "held",
                "amount": 5000,
                "currency": "usd",
                "customer_id": customer,
                "payment_intent_id": intent,
                "payment_method_id": "pm_bench",
                "created_at": timestamp(now - timedelta(days=1)),
                "release_at": past,
                "GSI1PK": due_partition(hold_id),
                "GSI1SK": due_sort_key(past, hold_id),
            }
        )
    for index in range(items - len(rows)):
        sub, hold_id = f"filler-{index}", f"hold_{uuid.uuid4().hex}"
        kind = index % 4
        if kind == 0:  # due later: in the index, never read
            later = {"GSI1PK": due_partition(hold_id), "GSI1SK": f"{future}#x"}
            rows.append({**hold_key(sub, hold_id), "status": "held", **later})
        elif kind == 1:  # released: out of the index
            rows.append({**hold_key(sub, hold_id), "status": "released", "outcome": "canceled"})
        else:
            rows.append({"PK": f"ACCOUNT#{sub}", "SK": "PROFILE" if kind == 2 else "CARD#pm_x", "entity": "other"})
    for start in range(0, len(rows), 25):
        batch = [{"PutRequest": {"Item": marshal(row)}} for row in rows[start : start + 25]]
        client.batch_write_item(RequestItems={name: batch})


@dataclass(frozen=True)
class Worker:
    """The sweeper and one container of the background worker, on one queue."""

    sweeper: Sweeper
    runner: TaskRunner
    sqs: Any
    queue_url: str
    workers: int


def _invocation(worker: Worker, sim: Simulator, reads: _Reads, timeout: int) -> Run:
    """One sweep, then the worker draining the queue, within `timeout` seconds."""
    sim.calls.clear()
    reads.items, reads.requests = 0, Counter()
    started = time.monotonic()

    def remaining_ms() -> int:
        return int((timeout - (time.monotonic() - started)) * 1000)

    report = worker.sweeper.sweep(remaining_ms)
    released = 0
    while remaining_ms() > 30_000:
        messages = worker.sqs.receive_message(QueueUrl=worker.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        records = [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]
        batch = worker.runner.run_messages(records, worker.workers)
        released += batch.results.get("done", 0)
        done = [m for m in messages if m["MessageId"] not in batch.failed_messages]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            worker.sqs.delete_message_batch(QueueUrl=worker.queue_url, Entries=entries)
    metrics.clear_metrics()
    return Run(
        due_read=report.due,
        released=released,
        items_read=reads.items,
        requests=Counter(reads.requests),
        stripe_calls=len([c for c in sim.calls if c.fault is None]),
        seconds=time.monotonic() - started,
        stopped_early=report.stopped_early,
    )


def run(
    holds: int = HOLDS,
    items: int = ITEMS,
    rate: float | None = None,
    latency: float = LATENCY,
    timeout: int | None = None,
) -> SweepBench:
    """Seed, then invoke the sweep until no due hold is left (at most MAX_RUNS times)."""
    environment()
    result = SweepBench(holds, items, rate or _template_rate(), latency, timeout or _template_timeout())
    lock = threading.Lock()
    original = DynamoHandler.call_action

    def atomic(self: DynamoHandler) -> Any:  # DynamoDB applies each request atomically; moto needs a lock
        with lock:
            return original(self)

    DynamoHandler.call_action = atomic  # type: ignore[method-assign]
    level = logger.log_level
    logger.setLevel("ERROR")
    try:
        with mock_aws(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reset_containers()
            client = boto3.client("dynamodb")
            name = create_tables(client, load_template(), "bench")["AccountTable"]
            sim = Simulator()
            _seed_table(client, name, _seed_stripe(sim, holds), items)
            sim.latency = latency
            reads = _Reads()
            client.meta.events.register("after-call.dynamodb", reads)
            table = Table(client, name)
            gateway = StripeGateway(
                StripeApi(stripe_client(TEST_KEY, http_client=sim.http_client()), limiter=RateLimiter(result.rate))
            )
            sqs = boto3.client("sqs")
            queue_url = sqs.create_queue(QueueName="bench-stripe-tasks")["QueueUrl"]
            tasks = TaskQueue(sqs, queue_url)
            context = BillingContext(BillingSettings(), table, gateway, tasks=tasks)
            worker = Worker(
                Sweeper(HoldStore(table), tasks),
                TaskRunner(context, HoldReleaser(HoldStore(table), gateway)),
                sqs,
                queue_url,
                workers_for(result.rate),
            )
            while len(result.runs) < MAX_RUNS and result.released < holds:
                result.runs.append(_invocation(worker, sim, reads, result.timeout))
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]
        logger.setLevel(level)
    return result


def main() -> None:
    result = run()
    print(
        f"Release sweeper: {result.holds} due holds among {result.items} items; Stripe latency "
        f"{result.latency * 1000:.0f} ms; configured rate {result.rate:g} calls/s; Lambda timeout {result.timeout} s"
    )
    print(f"{'run':>4}{'read':>8}{'released':>10}{'seconds':>9}{'items read/hold':>17}{'calls/s':>9}  stopped early")
    for number, done in enumerate(result.runs, 1):
        per_hold = done.items_read / max(1, done.due_read)
        print(
            f"{number:>4}{done.due_read:>8}{done.released:>10}{done.seconds:>9.1f}{per_hold:>17.2f}"
            f"{done.stripe_calls / done.seconds:>9.1f}  {'yes' if done.stopped_early else 'no'}"
        )
    requests = sum((r.requests for r in result.runs), Counter())
    print(f"DynamoDB items read per due hold   {result.items_read_per_due_hold:.2f}")
    print(
        f"DynamoDB requests per hold         {sum(requests.values()) / max(1, result.released):.2f} "
        f"({', '.join(f'{k}×{v}' for k, v in sorted(requests.items()))}; never a Scan)"
    )
    print(f"Stripe calls per hold              {result.stripe_calls_per_hold:.2f}")
    print(f"Throughput                         {result.share_of_rate:.0%} of the configured rate")


if __name__ == "__main__":
    main()
