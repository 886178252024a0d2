"""The capacity model (DESIGN §10, issue 14): what the service asks of AWS and Stripe at a load
profile, held against their documented limits.

Nothing here can be deployed, so scale is planned by counting. Each operation of the profile
(sign-up, card collection and addition, the card's background Stripe work and the release of its
hold, the Stripe webhooks it causes, a usage batch, an invoice mirrored, an avatar upload, an
email address added, an account deleted, the hourly sweep) runs several times against the local
stack (`local.stack`: the template's own resources and environment in moto, the real handlers,
the Stripe simulator), with counting hooks: every AWS request a function makes (botocore's
`BaseClient._make_api_call`), the write and read units of every DynamoDB request (from the sizes
of the items before and after, as DynamoDB bills them: 1 KB a write unit, 4 KB a read unit,
twice in a transaction, again for each global secondary index entry written), the partition key
each unit lands on, and every Stripe request by endpoint. Those counts, multiplied by the
profile (`bench/capacity_profile.json`, or `--profile FILE`), are set against each limit, with
the document it comes from; headroom = limit / load (≥ 1 is enough). A limit that needs a quota
increase is shown with its default and the figure to ask for (the README's launch checklist).

    make bench                                   # every benchmark, this one with the target profile
    python -m bench.capacity --profile my.json   # another profile (PYTHONPATH=layers/common)

Keys: a partition key written by several invocations for different accounts is shared (a rate-
limit counter, a due-index shard) and takes the operation's whole rate spread over the shards
seen; any other key belongs to one account or one marker and takes one operation a second (the
busiest account's usage is modelled from its own rate).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import math
import os
import re
import sys
import tempfile
import threading
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.client
import httpx

from bench import moto_speed
from local.functions import FunctionRuntime, InvocationError
from local.sources import sqs_records
from local.stack import LocalStack
from local.template import load_template, resources
from stripe_simulator import WebhookEndpoint
from tests.support.dynamodb_limits import item_size
from tests.support.events import http_event

PROFILE = Path(__file__).with_name("capacity_profile.json")
ATTEMPTS = 4
# Invocations of each operation (distinct accounts), enough to tell shared keys apart (at least
# 2); the counts are the same from run to run, so more runs only confirm them (CAPACITY_RUNS).
RUNS = max(2, int(os.environ.get("CAPACITY_RUNS", "3")))
COUNTING_TIMEOUT = 900  # seconds: Lambda's longest
LAMBDA_SCALING_PER_10_SECONDS = 1000  # new execution environments a function gets every 10 s (DOCS["lambda-scaling"])
WRITE_UNIT, READ_UNIT = 1024, 4096
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
SHARD_SUFFIX = re.compile(r"#\d{1,3}$")
# The local stack's clock thread (`local.clock.TimeMachine`).
CLOCK_THREAD = "local-clock"
# An object's id (cus_N4x...), not a resource's name (setup_intents): the endpoints stay apart.
STRIPE_ID = re.compile(r"^[a-z]+_(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]+$")

# ---------------------------------------------------------------------------------------- counting


@dataclass
class Usage:
    """What one run of an operation asked for."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (service, operation)
    entries: Counter[tuple[str, str]] = field(default_factory=Counter)  # PutEvents / SendMessageBatch entries
    write_units: Counter[str] = field(default_factory=Counter)  # partition key -> units (base table)
    index_units: Counter[str] = field(default_factory=Counter)  # "Index:partition" -> write units
    read_units: Counter[str] = field(default_factory=Counter)
    stripe: Counter[str] = field(default_factory=Counter)  # "POST /v1/payment_intents" -> requests
    invocations: Counter[str] = field(default_factory=Counter)  # function -> invocations
    serial_calls: Counter[str] = field(default_factory=Counter)  # function -> AWS requests it made
    serial_stripe: Counter[str] = field(default_factory=Counter)  # function -> Stripe requests
    by_function: Counter[tuple[str, str]] = field(default_factory=Counter)  # (function, operation) -> AWS requests


class Meter:
    """Counts what the stack's functions ask of AWS and Stripe while `measuring` is on."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.on = False
        self.current = Usage()
        self._depth = 0  # function invocations in progress (the runtime runs one at a time)
        self._function: list[str] = []
        self._internal = threading.local()
        self._invoking = threading.local()  # a thread's depth of function invocations
        self._lock = threading.Lock()
        self._schemas: dict[str, tuple[list[str], dict[str, str]]] = {}
        self._raw = stack.client("dynamodb")

    # ------------------------------------------------------------------ installing the hooks
    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        meter = self
        client_class: Any = botocore.client.BaseClient  # its private method, untyped in the stubs
        runtime_class: Any = FunctionRuntime
        original_call = client_class._make_api_call
        original_invoke = runtime_class.invoke
        simulator = self.stack.simulated_stripe.simulator if self.stack.simulated_stripe else None
        original_handle = simulator.handle if simulator is not None else None

        def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if not meter.counting():
                return original_call(client, operation, params)
            return meter.aws_call(client, operation, params, lambda: original_call(client, operation, params))

        def invoke(runtime: FunctionRuntime, logical_id: str, event: Any) -> Any:
            if not meter.on:
                return original_invoke(runtime, logical_id, event)
            with meter._lock:
                meter.current.invocations[logical_id] += 1
                meter._depth += 1
                meter._function.append(logical_id)
            meter._invoking.depth = getattr(meter._invoking, "depth", 0) + 1
            try:
                return original_invoke(runtime, logical_id, event)
            finally:
                meter._invoking.depth -= 1
                with meter._lock:
                    meter._depth -= 1
                    meter._function.pop()

        def handle(method: str, url: str, headers: dict[str, str], body: Any) -> Any:
            if meter.on and meter._depth:
                path = "/".join(
                    "{id}" if STRIPE_ID.match(part) else part for part in url.split("?", maxsplit=1)[0].split("/")
                )
                with meter._lock:
                    meter.current.stripe[f"{method.upper()} {path[path.find('/v1/') :]}"] += 1
                    meter.current.serial_stripe[meter._function[-1]] += 1
            if original_handle is None:
                raise RuntimeError("no Stripe simulator")
            return original_handle(method, url, headers, body)

        client_class._make_api_call = make_api_call
        runtime_class.invoke = invoke
        if simulator is not None:
            simulator.handle = handle
        try:
            yield
        finally:
            client_class._make_api_call = original_call
            runtime_class.invoke = original_invoke
            if simulator is not None:
                simulator.handle = original_handle

    def counting(self) -> bool:
        if not self.on or self._depth == 0 or getattr(self._internal, "on", False):
            return False
        # The local clock's thread also stands in for DynamoDB TTL (its Scans): only what the
        # functions it invokes ask is the service's work.
        return threading.current_thread().name != CLOCK_THREAD or getattr(self._invoking, "depth", 0) > 0

    @contextlib.contextmanager
    def measuring(self) -> Iterator[Usage]:
        self.current = Usage()
        self.on = True
        try:
            yield self.current
        finally:
            self.on = False

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Nothing counted inside (work that is not the measured operation's), then as before."""
        on, self.on = self.on, False
        try:
            yield
        finally:
            self.on = on

    # ------------------------------------------------------------------ one AWS request
    def aws_call(self, client: Any, operation: str, params: dict[str, Any], send: Callable[[], Any]) -> Any:
        service = client.meta.service_model.service_name
        with self._lock:
            self.current.calls[(service, operation)] += 1
            function = self._function[-1] if self._function else "?"
            self.current.serial_calls[function] += 1
            self.current.by_function[(function, operation)] += 1
            if operation in ("PutEvents", "SendMessageBatch"):
                self.current.entries[(service, operation)] += len(params.get("Entries", []))
        if service != "dynamodb":
            return send()
        if operation in DYNAMODB_WRITES:
            return self._write(operation, params, send)
        response = send()
        self._read(operation, params, response)
        return response

    def internal_call(self, method: str, **params: Any) -> Any:
        self._internal.on = True
        try:
            return getattr(self._raw, method)(**params)
        finally:
            self._internal.on = False

    def _schema(self, table: str) -> tuple[list[str], dict[str, str]]:
        """The table's key attributes, and each index's partition key attribute."""
        if table not in self._schemas:
            described = self.internal_call("describe_table", TableName=table)["Table"]
            keys = [k["AttributeName"] for k in described["KeySchema"]]
            indexes = {
                index["IndexName"]: next(k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH")
                for index in described.get("GlobalSecondaryIndexes", [])
            }
            self._schemas[table] = (keys, indexes)
        return self._schemas[table]

    def _items(self, targets: list[tuple[str, dict[str, Any], int]]) -> list[dict[str, Any] | None]:
        """The items at the targets' keys now (strongly consistent reads, 100 keys a request)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        wanted = list({(table, json.dumps(key, sort_keys=True)): (table, key) for table, key, _ in targets}.values())
        for start in range(0, len(wanted), 100):
            requests: dict[str, Any] = defaultdict(lambda: {"Keys": [], "ConsistentRead": True})
            for table, key in wanted[start : start + 100]:
                requests[table]["Keys"].append(key)
            while requests:
                answer = self.internal_call("batch_get_item", RequestItems=dict(requests))
                for table, items in answer.get("Responses", {}).items():
                    names = self._schema(table)[0]
                    for item in items:
                        found[(table, json.dumps({n: item[n] for n in names}, sort_keys=True))] = item
                requests = answer.get("UnprocessedKeys") or {}
        return [found.get((table, json.dumps(key, sort_keys=True))) for table, key, _ in targets]

    def _write(self, operation: str, params: dict[str, Any], send: Callable[[], Any]) -> Any:
        targets: list[tuple[str, dict[str, Any], int]] = []  # (table, key, multiplier)

        def key_of(table: str, item: Mapping[str, Any]) -> dict[str, Any]:
            return {name: item[name] for name in self._schema(table)[0]}

        if operation == "PutItem":
            targets.append((params["TableName"], key_of(params["TableName"], params["Item"]), 1))
        elif operation in ("UpdateItem", "DeleteItem"):
            targets.append((params["TableName"], dict(params["Key"]), 1))
        elif operation == "TransactWriteItems":
            for action in params["TransactItems"]:
                (_kind, body), *_ = action.items()
                key = body.get("Key") or key_of(body["TableName"], body["Item"])
                targets.append((body["TableName"], dict(key), 2))
        else:  # BatchWriteItem
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    put = request.get("PutRequest")
                    key = key_of(table, put["Item"]) if put else request["DeleteRequest"]["Key"]
                    targets.append((table, dict(key), 1))
        before = self._items(targets)
        try:
            return send()
        finally:
            after = self._items(targets)
            for (table, key, multiplier), old, new in zip(targets, before, after, strict=True):
                self._count_write(table, key, old, new, multiplier)

    def _count_write(
        self,
        table: str,
        key: Mapping[str, Any],
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any] | None,
        times: int,
    ) -> None:
        size = max(item_size(old) if old else 0, item_size(new) if new else 0)
        partition = _value(key[self._schema(table)[0][0]])
        with self._lock:
            self.current.write_units[f"{table}:{partition}"] += times * max(1, math.ceil(size / WRITE_UNIT))
        for index, attribute in self._schema(table)[1].items():
            was, now = (old or {}).get(attribute), (new or {}).get(attribute)
            if (was is None and now is None) or old == new:
                continue
            entries = (
                [v for v in {json.dumps(was), json.dumps(now)} if v != "null"] if was != now else [json.dumps(now)]
            )
            for entry in entries:
                value = _value(json.loads(entry))
                units = max(1, math.ceil(size / WRITE_UNIT))
                with self._lock:
                    self.current.index_units[f"{index}:{value}"] += units

    def _read(self, operation: str, params: dict[str, Any], response: Mapping[str, Any]) -> None:
        def units(items: list[Mapping[str, Any]], consistent: bool, times: int = 1) -> float:
            size = sum(item_size(i) for i in items)
            return times * max(1, math.ceil(size / READ_UNIT)) * (1.0 if consistent else 0.5)

        counted: list[tuple[str, float]] = []
        if operation == "GetItem":
            item = response.get("Item")
            partition = _value(next(iter(params["Key"].values())))
            counted.append((partition, units([item] if item else [], bool(params.get("ConsistentRead")))))
        elif operation == "Query":
            match = re.match(r"\s*(\S+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", ""))
            partition = _value(params["ExpressionAttributeValues"][match.group(2)]) if match else "?"
            if params.get("IndexName"):
                partition = f"{params['IndexName']}:{partition}"
            counted.append((partition, units(response.get("Items", []), bool(params.get("ConsistentRead")))))
        elif operation == "BatchGetItem":
            for table, found in response.get("Responses", {}).items():
                consistent = bool(params["RequestItems"].get(table, {}).get("ConsistentRead"))
                for item in found:
                    counted.append((_value(next(iter(item.values()))), units([item], consistent)))
        elif operation == "TransactGetItems":
            for entry in response.get("Responses", []):
                item = entry.get("Item")
                counted.append(
                    (_value(next(iter(item.values()))) if item else "?", units([item] if item else [], True, 2))
                )
        with self._lock:
            for partition, value in counted:
                self.current.read_units[partition] += value  # type: ignore[assignment]


def _value(attribute: Mapping[str, Any]) -> str:
    return str(next(iter(attribute.values())))


# ---------------------------------------------------------------------------------------- the profile


@dataclass(frozen=True)
class Profile:
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Profile:
        return cls(json.loads(path.read_text()))

    def __getattr__(self, name: str) -> Any:
        try:
            return self.raw[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def launch(self) -> dict[str, Any]:
        return dict(self.raw["launch"])


# ---------------------------------------------------------------------------------------- the operations


class Driver:
    """Runs the operations on the local stack's functions, with the events API Gateway, SQS, S3
    and Stripe's webhooks hand them (invoked in-process: no HTTP in between, so that nothing
    but the functions' own requests is counted and no transport retry repeats a request)."""

    def __init__(self, stack: LocalStack, meter: Meter, profile: Profile) -> None:
        self.stack = stack
        self.meter = meter
        self.profile = profile
        self.sqs = stack.client("sqs")
        resources = stack.describe()["resources"]
        self.table = resources["AWS::DynamoDB::Table"]["AccountTable"]
        self.task_queue = self.sqs.get_queue_url(QueueName=resources["AWS::SQS::Queue"]["StripeTaskQueue"])["QueueUrl"]
        self.task_queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.task_queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.simulator = stack.simulated_stripe.simulator if stack.simulated_stripe else None
        if self.simulator is not None:
            self.simulator.webhooks.stop()
            secret = self.simulator.webhooks.endpoints[0].secret
            self.simulator.webhooks.endpoints = [WebhookEndpoint(self._webhook, secret, subscribed_events())]
        self._n = 0

    def sub(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}-{uuid.uuid4().hex[:6]}"

    def http(self, function: str, sample: str, sub: str | None, *statuses: int, **kwargs: Any) -> Any:
        claims = {"email": f"{sub}@example.com", "email_verified": "true"} if sub else None
        response = self.stack.invoke(function, http_event(sample, sub=sub, claims=claims, **kwargs))
        body = json.loads(response.get("body") or "null")
        if statuses and response["statusCode"] not in statuses:
            raise RuntimeError(f"{function} {sample}: {response['statusCode']} {str(body)[:300]}")
        return body

    def _webhook(self, body: bytes, headers: dict[str, str]) -> int:
        event = http_event(
            "stripe_webhook/stripe_event",
            sub=None,
            raw_body=body.decode(),
            headers={"stripe-signature": headers["Stripe-Signature"]},
        )
        return int(self.stack.invoke("StripeWebhookFunction", event)["statusCode"])

    # ------------------------------------------------------------------ steps
    def sign_up(self, sub: str) -> None:
        self.http("ProfileFunction", "profile/create_account", sub, 201, body={"user_id": sub})

    def setup_intent(self, sub: str) -> None:
        self.http("PaymentMethodsFunction", "payment_methods/create_setup_intent", sub, 200)

    def add_card(self, sub: str) -> None:
        self.http(
            "PaymentMethodsFunction",
            "payment_methods/add_payment_method",
            sub,
            201,
            body={"payment_method": "pm_card_visa"},
            headers={"idempotency-key": f"cap-{sub}"},
        )

    def webhooks(self) -> None:
        if self.simulator is not None:
            while self.simulator.webhooks.pending:
                self.simulator.webhooks.deliver_pending()

    def events(self) -> None:
        """What the EventBridge rules carry (the security notices) to their function, as Lambda's
        asynchronous invocations would: part of the operation that published them."""
        if self.stack.poller is not None:
            self.stack.poller.deliver("events")

    def settle(self) -> None:
        """Deliver every pending webhook and event and run every queued background task, uncounted."""
        with self.meter.paused():
            self.webhooks()
            self.drain_tasks()
            self.events()

    def drain_tasks(self) -> None:
        """The background worker, fed by its queue as Lambda's event source feeds it."""
        while messages := self.sqs.receive_message(QueueUrl=self.task_queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            event = {"Records": list(sqs_records(messages, self.task_queue_arn, self.stack.region))}
            answer = self.stack.invoke("PreauthReleaseFunction", event)
            if answer.get("batchItemFailures"):
                raise RuntimeError(f"background tasks failed: {answer}")
            self.sqs.delete_message_batch(
                QueueUrl=self.task_queue,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def open_holds(self, sub: str) -> list[str]:
        items = self.meter.internal_call(
            "query",
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :hold)",
            ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{sub}"}, ":hold": {"S": "HOLD#"}},
        )["Items"]
        return [i["hold_id"]["S"] for i in items]

    def release(self, hold: tuple[str, str]) -> None:
        sub, hold_id = hold
        body = json.dumps({"release": {"account": sub, "hold_id": hold_id}})
        self.sqs.send_message(QueueUrl=self.task_queue, MessageBody=body)
        self.drain_tasks()

    def subscribe(self, sub: str) -> None:
        self.http(
            "SubscriptionsFunction",
            "subscriptions/change_plan",
            sub,
            200,
            201,
            202,
            body={"plan": "developer"},
            headers={"idempotency-key": f"cap-plan-{sub}"},
        )

    def usage_batch(self, busiest: str, others: list[str]) -> None:
        """One batch of the usage queue, as the profile fills it: the busiest account's share of
        the messages, each message an event of `charges_per_usage_event` charges of one account."""
        size = int(self.profile.launch["usage_batch_size"])
        share = self.profile.busiest_account_charges_per_second / self.profile.usage_charges_per_second
        busiest_messages = max(1, round(size * share))
        owners = [busiest] * busiest_messages + [others[i % len(others)] for i in range(size - busiest_messages)]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        records: list[dict[str, Any]] = []
        for owner in owners:
            charges = [
                {"account": owner, "amount_cents": 1, "idempotency_id": uuid.uuid4().hex}
                for _ in range(int(self.profile.charges_per_usage_event))
            ]
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "UsageRecorded",
                "source": "capacity-model",
                "account": "123456789012",
                "time": now,
                "region": self.stack.region,
                "resources": [],
                "detail": {"records": charges},
            }
            message = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "capacity-model", "Body": json.dumps(event)}
            records.extend(sqs_records([message], "arn:aws:sqs:eu-west-1:123456789012:usage", self.stack.region))
        answer = self.stack.invoke("UsageRecorderFunction", {"Records": records})
        if answer.get("batchItemFailures"):
            raise RuntimeError(f"usage batch failed: {answer}")

    def delete_account(self, sub: str) -> None:
        self.http("ProfileFunction", "profile/delete_account", sub, 200, 202, 204, body={"confirm_user_id": sub})

    def avatar_upload(self, sub: str) -> None:
        """The upload form, the upload itself (not the service's request), and the validator on
        the S3 event it causes."""
        body = self.http("AvatarFunction", "avatar/request_upload", sub, 200, 201)
        upload = body.get("upload", body)
        with self.meter.paused():
            httpx.post(
                upload["url"], data=upload["fields"], files={"file": ("avatar.jpg", _photo(), "image/jpeg")}, timeout=60
            )
        if self.stack.poller is not None:
            self.stack.poller.deliver("s3")

    def add_email(self, sub: str) -> None:
        self.http("EmailsFunction", "emails/add_email", sub, 201, 202, body={"address": f"other-{sub}@example.com"})

    def sweep(self) -> None:
        self.stack.invoke("PreauthReleaseFunction", {"sweep": True})


def rule_functions() -> set[str]:
    """The functions an EventBridge rule invokes (template.yaml's EventBridgeRule events)."""
    functions = resources(load_template(), "AWS::Serverless::Function")
    return {
        name
        for name, function in functions.items()
        for event in (function["Properties"].get("Events") or {}).values()
        if event["Type"] == "EventBridgeRule"
    }


def subscribed_events() -> tuple[str, ...]:
    """The event types Stripe sends the webhook: those it applies, for which the README's deploy
    steps register the endpoint (`enabled_events`); Stripe sends no other (a test compares both)."""
    from account_billing.billing.webhooks import service  # noqa: PLC0415 (the layer, once the stack runs)

    applied = service.INVOICE_EVENTS | service.SUBSCRIPTION_EVENTS | service.SCHEDULE_EVENTS | service.HOLD_EVENTS
    return tuple(sorted(applied | {"payment_method.detached", "customer.deleted"}))


def _photo() -> bytes:
    from tests.support.corpus import photo_jpeg  # noqa: PLC0415 (Pillow only for this step)

    return photo_jpeg()


@dataclass
class Measured:
    """An operation's counts over its runs, per run, with the keys several runs shared."""

    name: str
    rate: float  # per second, from the profile
    runs: int
    usage: Usage
    shared: dict[str, int]  # key family -> distinct shards seen (written by several runs)
    note: str = ""

    def per_run(self, counter: Counter[Any]) -> dict[Any, float]:
        return {key: value / self.runs for key, value in counter.items()}


def measure(
    driver: Driver,
    name: str,
    rate: float,
    setup: Callable[[], Any],
    run: Callable[[Any], None],
    *,
    runs: int = RUNS,
    note: str = "",
) -> Measured:
    runs = min(runs, RUNS)
    total = Usage()
    seen_by: dict[str, set[int]] = defaultdict(set)
    shards: dict[str, set[str]] = defaultdict(set)
    repeated = 0
    for n in range(runs):
        for attempt in range(1, ATTEMPTS + 1):
            # On a loaded machine a run can fail spuriously: a function over its timeout, or a
            # transaction retried by botocore after a read timeout, which moto (ignoring the
            # ClientRequestToken that makes DynamoDB answer the retry as the first attempt)
            # refuses. Such a run is run again on a new account, uncounted.
            try:
                driver.settle()  # what earlier runs left pending is not this run's
                state = setup()
                with driver.meter.paused():
                    driver.events()  # nor the notices its setup caused (a card added...)
                with driver.meter.measuring() as usage:
                    run(state)
                    driver.events()  # the notices this run caused, sent as they are in production
                break
            except (RuntimeError, InvocationError):
                if attempt == ATTEMPTS:
                    raise
                repeated += 1
        for attribute in (
            "calls",
            "entries",
            "write_units",
            "index_units",
            "read_units",
            "stripe",
            "invocations",
            "serial_calls",
            "serial_stripe",
            "by_function",
        ):
            getattr(total, attribute).update(getattr(usage, attribute))
        for key in list(usage.write_units) + list(usage.index_units):
            family = SHARD_SUFFIX.sub("", key)
            seen_by[family].add(n)
            shards[family].add(key)
    shared = {family: len(shards[family]) for family, runs_seen in seen_by.items() if len(runs_seen) > 1}
    print(f"  counted: {name} ({runs} runs)", file=sys.stderr)
    if repeated:
        note = f"{note}; " if note else ""
        note += f"{repeated} run(s) repeated after a spurious failure"
    return Measured(name, rate, runs, total, shared, note)


def operations(driver: Driver, profile: Profile) -> list[Measured]:
    cards = profile.card_additions_per_second
    measured: list[Measured] = []

    def new_account() -> str:
        for attempt in range(1, ATTEMPTS + 1):
            sub = driver.sub("cap")
            try:
                driver.sign_up(sub)
            except (RuntimeError, InvocationError):  # spurious on a loaded machine (see `measure`)
                if attempt == ATTEMPTS:
                    raise
                continue
            return sub
        raise AssertionError("unreachable")

    def with_card() -> str:
        sub = new_account()
        driver.setup_intent(sub)
        driver.add_card(sub)
        driver.webhooks()
        driver.drain_tasks()
        return sub

    def carded() -> str:
        sub = new_account()
        driver.setup_intent(sub)
        return sub

    def card_added() -> str:
        sub = carded()
        driver.add_card(sub)
        return sub

    measured.append(measure(driver, "sign-up", profile.sign_ups_per_second, lambda: driver.sub("cap"), driver.sign_up))
    measured.append(measure(driver, "card: SetupIntent", cards, new_account, driver.setup_intent))
    measured.append(measure(driver, "card: added (with its hold)", cards, carded, driver.add_card))
    measured.append(measure(driver, "card: its Stripe webhooks", cards, card_added, lambda _: driver.webhooks()))

    def card_with_webhooks() -> str:
        sub = card_added()
        driver.webhooks()
        return sub

    measured.append(
        measure(driver, "card: background tasks", cards, card_with_webhooks, lambda _: driver.drain_tasks())
    )

    def hold_of() -> tuple[str, str]:
        sub = with_card()
        return sub, driver.open_holds(sub)[0]

    measured.append(measure(driver, "card: hold released", cards, hold_of, driver.release))

    def subscribed() -> str:
        sub = with_card()
        driver.subscribe(sub)
        return sub

    measured.append(
        measure(
            driver,
            "invoice: webhooks mirrored",
            profile.invoices_per_day / 86_400,
            subscribed,
            lambda _: driver.webhooks(),
            runs=6,
            note="the deliveries of a subscription's first invoice",
        )
    )
    measured.append(
        measure(
            driver,
            "avatar: upload and validation",
            profile.avatar_uploads_per_second,
            new_account,
            driver.avatar_upload,
            runs=4,
        )
    )
    measured.append(
        measure(
            driver, "email: address added", profile.email_additions_per_second, new_account, driver.add_email, runs=6
        )
    )
    measured.append(
        measure(
            driver, "account deleted", profile.account_deletions_per_second, with_card, driver.delete_account, runs=6
        )
    )
    measured.append(
        measure(driver, "hourly sweep (nothing due)", 1 / 3600, lambda: None, lambda _: driver.sweep(), runs=2)
    )
    # Last: its batches fill the table with usage markers, and moto's index queries (the sweep's)
    # read every item of the table.
    size = int(profile.launch["usage_batch_size"])
    events_per_second = profile.usage_charges_per_second / profile.charges_per_usage_event
    others = [new_account() for _ in range(size)]
    busiest = new_account()
    measured.append(
        measure(
            driver,
            "usage: a queue batch",
            events_per_second / size,
            lambda: None,
            lambda _: driver.usage_batch(busiest, others),
            runs=4,
            note=f"{size} events of {profile.charges_per_usage_event} charges",
        )
    )
    return measured


# ---------------------------------------------------------------------------------------- the model


@dataclass
class Limit:
    area: str
    name: str
    load: float
    limit: float
    unit: str
    source: str
    default: float | None = None  # the default quota, when the launch asks for more

    @property
    def headroom(self) -> float:
        return math.inf if self.load == 0 else self.limit / self.load


DOCS = {
    "ddb-partition": "DynamoDB Developer Guide, 'Partitions and data distribution' / 'Burst and adaptive capacity': 3,000 RCU and 1,000 WCU per partition (docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html)",  # noqa: E501
    "ddb-table": "DynamoDB Developer Guide, 'Service, account, and table quotas': on-demand per-table throughput 40,000 read / 40,000 write request units per second, adjustable (docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html)",  # noqa: E501
    "ddb-initial": "DynamoDB Developer Guide, 'On-demand capacity mode', initial throughput: a new on-demand table serves up to 4,000 writes/s and 12,000 reads/s until it scales or is pre-warmed (warm throughput) (docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html)",  # noqa: E501
    "ddb-conflict": "DynamoDB Developer Guide, 'Transaction conflict handling': concurrent transactions on one item cancel each other (TransactionConflict) (docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html)",  # noqa: E501
    "eb-putevents": "EventBridge User Guide, 'EventBridge quotas': PutEvents 10,000 requests/s in us-east-1, us-west-2, eu-west-1 (2,400 or 1,200 elsewhere), adjustable; up to 10 entries a request (docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html)",  # noqa: E501
    "eb-invocations": "EventBridge User Guide, 'EventBridge quotas': invocations 18,750/s in us-east-1, us-west-2, eu-west-1 (4,500 or 750 elsewhere), adjustable (docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html)",  # noqa: E501
    "scheduler-schedules": "EventBridge Scheduler User Guide, 'Quotas': schedules per account per Region 10,000,000, adjustable (docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html)",  # noqa: E501
    "scheduler-rate": "EventBridge Scheduler User Guide, 'Quotas': CreateSchedule 1,000 requests/s and invocations 1,000/s in the largest Regions, adjustable (docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html)",  # noqa: E501
    "lambda-concurrency": "Lambda Developer Guide, 'Lambda quotas': 1,000 concurrent executions per Region, adjustable to tens of thousands (docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)",  # noqa: E501
    "lambda-sqs": "Lambda Developer Guide, 'Configuring scaling behavior for SQS event source mappings': MaximumConcurrency caps one queue's invocations (2-1,000) (docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)",  # noqa: E501
    "ssm-throughput": "Systems Manager User Guide, 'Increasing Parameter Store throughput': GetParameter and the other read APIs share 40 transactions/s by default, up to 10,000/s with the higher-throughput setting (docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-throughput.html)",  # noqa: E501
    "lambda-scaling": "Lambda Developer Guide, 'Lambda scaling behavior': each function adds up to 1,000 execution environments every 10 seconds (docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html)",  # noqa: E501
    "apigw-account": "API Gateway Developer Guide, 'Amazon API Gateway quotas': 10,000 requests/s per account per Region (burst 5,000) across HTTP, REST and WebSocket APIs, adjustable (docs.aws.amazon.com/apigateway/latest/developerguide/limits.html)",  # noqa: E501
    "apigw-route": "template.yaml ApiRouteRateLimit (HTTP API route throttling, docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html)",  # noqa: E501
    "sqs-standard": "SQS Developer Guide, 'Amazon SQS message quotas': standard queues take a nearly unlimited number of API calls per second; 120,000 in-flight messages per queue (docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html)",  # noqa: E501
    "stripe-global": "Stripe docs, 'Rate limits': 100 operations/s in live mode (25 in test mode) per account by default; Stripe raises it on request (docs.stripe.com/rate-limits)",  # noqa: E501
    "stripe-budget": "template.yaml StripeInteractiveRate / StripeBackgroundRate (billing.stripe.budget, billing.tasks): shares of the Stripe limit",  # noqa: E501
    "stripe-intent": "Stripe docs, 'Rate limits', object-level limits: 1,000 updates per PaymentIntent per hour (docs.stripe.com/rate-limits)",  # noqa: E501
    "ses": "SES Developer Guide, 'Service quotas in Amazon SES': sandbox 1 message/s and 200 a day; production access starts at 14/s and 50,000 a day, raised on request (docs.aws.amazon.com/ses/latest/dg/quotas.html)",  # noqa: E501
}


def model(measured: list[Measured], profile: Profile) -> list[Limit]:  # noqa: PLR0912, PLR0915 - one limit after another
    launch = profile.launch
    limits: list[Limit] = []

    def total(getter: Callable[[Measured], float]) -> float:
        return sum(m.rate * getter(m) for m in measured)

    def calls(m: Measured, service: str, *operations: str) -> float:
        return sum(
            v for (s, o), v in m.per_run(m.usage.calls).items() if s == service and (not operations or o in operations)
        )

    # DynamoDB: the table
    writes = total(
        lambda m: sum(m.per_run(m.usage.write_units).values()) + sum(m.per_run(m.usage.index_units).values())
    )
    reads = total(lambda m: sum(m.per_run(m.usage.read_units).values()))
    limits.append(
        Limit(
            "DynamoDB",
            "table write units/s (with its index)",
            writes,
            launch["dynamodb_table_write_units_per_second"],
            "WCU/s",
            DOCS["ddb-table"],
            40_000,
        )
    )
    limits.append(
        Limit(
            "DynamoDB",
            "table read units/s",
            reads,
            launch["dynamodb_table_read_units_per_second"],
            "RCU/s",
            DOCS["ddb-table"],
            40_000,
        )
    )
    limits.append(
        Limit(
            "DynamoDB",
            "new table's write units/s on launch day (warm throughput)",
            writes,
            launch["dynamodb_warm_write_units_per_second"],
            "WCU/s",
            DOCS["ddb-initial"],
            4_000,
        )
    )

    # DynamoDB: the hottest partition key of each kind. A shared key spread over shards takes its
    # share: the shards a few runs saw may be fewer than there are, so the code's own count is used.
    from account_billing.billing.holds.records import DUE_SHARDS, LEGACY_DUE_PARTITION  # noqa: PLC0415
    from account_billing.billing.stripe.budget import SCOPE, counters_for  # noqa: PLC0415

    known_shards = {
        LEGACY_DUE_PARTITION: DUE_SHARDS,
        f"LIMIT#{SCOPE}": counters_for(int(launch["stripe_interactive_rate"])),
    }
    hottest_write: tuple[float, str] = (0.0, "")
    hottest_index: tuple[float, str] = (0.0, "")
    hottest_read: tuple[float, str] = (0.0, "")
    for m in measured:
        for counter, kind in (
            (m.usage.write_units, "write"),
            (m.usage.index_units, "index"),
            (m.usage.read_units, "read"),
        ):
            families: dict[str, float] = defaultdict(float)
            for key, value in counter.items():
                families[SHARD_SUFFIX.sub("", key)] += value / m.runs
            for family, per_run in families.items():
                if family in m.shared:
                    spread = max(m.shared[family], known_shards.get(family.split(":", 1)[-1], 1))
                    load = m.rate * per_run / spread
                    label = f"{family}{'#<n>' if spread > 1 else ''} ({m.name}, shared by every account)"
                else:
                    load = max(v / m.runs for k, v in counter.items() if SHARD_SUFFIX.sub("", k) == family)
                    label = f"one account's or marker's key ({m.name}, 1 operation/s)"
                if kind == "write" and load > hottest_write[0]:
                    hottest_write = (load, label)
                elif kind == "index" and load > hottest_index[0]:
                    hottest_index = (load, label)
                elif kind == "read" and load > hottest_read[0]:
                    hottest_read = (load, label)

    # the busiest account's own partition, from its usage
    usage = next(m for m in measured if m.name.startswith("usage"))
    busiest = max(
        ((k, v / usage.runs) for k, v in usage.usage.write_units.items() if k.split(":", 1)[1].startswith("ACCOUNT#")),
        key=lambda kv: kv[1],
        default=("", 0.0),
    )
    busiest_load = usage.rate * busiest[1]
    if busiest_load > hottest_write[0]:
        hottest_write = (
            busiest_load,
            f"the busiest account ({profile.busiest_account_charges_per_second:,}/s charges): its month's spend parts",
        )
    limits.append(
        Limit(
            "DynamoDB",
            f"hottest partition, writes: {hottest_write[1]}",
            hottest_write[0],
            1000,
            "WCU/s",
            DOCS["ddb-partition"],
        )
    )
    limits.append(
        Limit(
            "DynamoDB",
            f"hottest partition, reads: {hottest_read[1]}",
            hottest_read[0],
            3000,
            "RCU/s",
            DOCS["ddb-partition"],
        )
    )
    limits.append(
        Limit(
            "DynamoDB",
            f"hottest index partition: {hottest_index[1]}",
            hottest_index[0],
            1000,
            "WCU/s",
            DOCS["ddb-partition"],
        )
    )
    # transactions on one spend part of the busiest account (conflicts past a few dozen a second)
    from account_billing.spending.records import SPEND_SHARDS  # noqa: PLC0415

    transactions = calls(usage, "dynamodb", "TransactWriteItems")
    groups_share = busiest[1] / max(
        1e-9,
        sum(v for k, v in usage.per_run(usage.usage.write_units).items() if k.split(":", 1)[1].startswith("ACCOUNT#")),
    )
    per_part = usage.rate * transactions * groups_share / SPEND_SHARDS
    limits.append(
        Limit(
            "DynamoDB",
            "transactions a second on one spend part of the busiest account",
            per_part,
            50,
            "tx/s",
            DOCS["ddb-conflict"] + "; 50/s is this model's bound for rare conflicts (5 retries on another part)",
        )
    )

    # EventBridge
    events_per_second = profile.usage_charges_per_second / profile.charges_per_usage_event
    put_events = total(lambda m: calls(m, "events", "PutEvents"))
    producer_requests = events_per_second / 10  # producers put 10 entries a request (README, "Usage events")
    limits.append(
        Limit(
            "EventBridge",
            "PutEvents requests/s (producers' usage events, 10 a request, and the limit events)",
            producer_requests + put_events,
            launch["eventbridge_put_events_per_second"],
            "req/s",
            DOCS["eb-putevents"],
            10_000,
        )
    )
    rule_targets = rule_functions()
    notices = total(lambda m: sum(v for f, v in m.per_run(m.usage.invocations).items() if f in rule_targets))
    limits.append(
        Limit(
            "EventBridge",
            "rule invocations/s (usage events to the usage queue, notices to their function)",
            events_per_second + notices,
            18_750,
            "inv/s",
            DOCS["eb-invocations"],
        )
    )

    # EventBridge Scheduler
    creates = total(lambda m: calls(m, "scheduler", "CreateSchedule"))
    outstanding = creates * profile.hold_release_delay_hours * 3600
    limits.append(Limit("Scheduler", "CreateSchedule requests/s", creates, 1000, "req/s", DOCS["scheduler-rate"]))
    limits.append(
        Limit("Scheduler", "schedules firing/s (a day later)", creates, 1000, "inv/s", DOCS["scheduler-rate"])
    )
    limits.append(
        Limit(
            "Scheduler",
            f"outstanding schedules ({profile.hold_release_delay_hours} h holds at the peak rate all day)",
            outstanding,
            launch["scheduler_schedules"],
            "schedules",
            DOCS["scheduler-schedules"],
            10_000_000,
        )
    )

    # SQS
    sends = total(
        lambda m: calls(m, "sqs", "SendMessage") + m.per_run(m.usage.entries).get(("sqs", "SendMessageBatch"), 0)
    )
    limits.append(
        Limit(
            "SQS", "background Stripe tasks queued/s (standard queue)", sends, math.inf, "msg/s", DOCS["sqs-standard"]
        )
    )
    usage_inflight = events_per_second * (float(profile.raw.get("usage_batching_window_seconds", 1)) + 1)
    limits.append(
        Limit(
            "SQS",
            "usage messages in flight (a second's window plus a second's work)",
            usage_inflight,
            120_000,
            "messages",
            DOCS["sqs-standard"],
        )
    )

    # Lambda concurrency: invocations/s x duration (counted requests x typical latency)
    concurrency: dict[str, float] = defaultdict(float)
    for m in measured:
        for function, invocations in m.per_run(m.usage.invocations).items():
            aws = m.usage.serial_calls.get(function, 0) / m.runs
            stripe = m.usage.serial_stripe.get(function, 0) / m.runs
            parallel = 16 if function == "UsageRecorderFunction" else 1  # its accounts are counted at once
            seconds = (
                invocations * profile.handler_overhead_ms / 1000
                + (aws * profile.aws_request_ms / parallel + stripe * profile.stripe_request_ms) / 1000
            )
            concurrency[function] += m.rate * seconds
    all_concurrency = sum(concurrency.values())
    limits.append(
        Limit(
            "Lambda",
            "concurrent executions, all functions",
            all_concurrency,
            launch["lambda_concurrent_executions"],
            "executions",
            DOCS["lambda-concurrency"],
            1000,
        )
    )
    for function in ("UsageRecorderFunction", "PaymentMethodsFunction", "ProfileFunction"):
        if function in concurrency:
            limits.append(
                Limit(
                    "Lambda",
                    f"{function} concurrent executions",
                    concurrency[function],
                    launch["lambda_concurrent_executions"],
                    "executions",
                    DOCS["lambda-concurrency"],
                )
            )
    # The background worker: each task measured alone is one invocation's worth of work; a
    # container runs a batch of tasks at once (its queue's BatchSize), and StripeWorkerConcurrency containers
    # at most (the queue's MaximumConcurrency).
    worker = concurrency.get("PreauthReleaseFunction", 0.0)
    containers = int(launch["stripe_worker_concurrency"])
    worker_events = load_template()["Resources"]["PreauthReleaseFunction"]["Properties"]["Events"]
    batch = int(worker_events["StripeTasks"]["Properties"]["BatchSize"])
    limits.append(
        Limit(
            "Lambda",
            f"background Stripe tasks running at once ({containers:,} worker containers x {batch} a batch)",
            worker,
            containers * batch,
            "tasks",
            DOCS["lambda-sqs"] + "; template.yaml StripeWorkerConcurrency, StripeTasks BatchSize",
        )
    )

    # SSM Parameter Store: each container reads its Stripe secret once, then every SECRET_MAX_AGE
    # seconds (the local runtime, running every function in one process, reads it on each run);
    # while the functions scale up, each new container reads it at once.
    from account_billing.billing.stripe.client import SECRET_MAX_AGE  # noqa: PLC0415

    readers = {
        function for m in measured for (function, operation) in m.usage.by_function if operation == "GetParameter"
    }
    scale_up = sum(min(concurrency.get(f, 0.0), LAMBDA_SCALING_PER_10_SECONDS) / 10 for f in readers)
    steady = sum(concurrency.get(f, 0.0) for f in readers) / SECRET_MAX_AGE
    limits.append(
        Limit(
            "SSM",
            f"GetParameter requests/s: the Stripe secrets' readers ({len(readers)} functions) scaling up, "
            f"then every {SECRET_MAX_AGE} s",
            scale_up + steady,
            launch["ssm_parameter_store_tps"],
            "req/s",
            DOCS["ssm-throughput"] + "; " + DOCS["lambda-scaling"],
            40,
        )
    )

    # API Gateway
    routes: dict[str, float] = defaultdict(float)
    http_functions = {
        "ProfileFunction",
        "PaymentMethodsFunction",
        "AvatarFunction",
        "EmailsFunction",
        "StripeWebhookFunction",
        "SubscriptionsFunction",
        "SpendingFunction",
        "InvoicesFunction",
    }
    for m in measured:
        for function, invocations in m.per_run(m.usage.invocations).items():
            if function in http_functions:
                routes[m.name] += m.rate * invocations
    limits.append(
        Limit(
            "API Gateway",
            "requests/s, all routes (Stripe's webhooks included)",
            sum(routes.values()),
            launch["api_gateway_account_requests_per_second"],
            "req/s",
            DOCS["apigw-account"],
            10_000,
        )
    )
    busiest_route = max(routes.items(), key=lambda kv: kv[1])
    limits.append(
        Limit(
            "API Gateway",
            f"busiest route ({busiest_route[0]})",
            busiest_route[1],
            launch["api_route_rate_limit"],
            "req/s",
            DOCS["apigw-route"],
        )
    )

    # Stripe
    interactive = total(lambda m: sum(m.per_run(m.usage.serial_stripe).get(f, 0) for f in ("PaymentMethodsFunction",)))
    background = total(lambda m: m.per_run(m.usage.serial_stripe).get("PreauthReleaseFunction", 0))
    everything = total(lambda m: sum(m.per_run(m.usage.stripe).values()))
    limits.append(
        Limit(
            "Stripe",
            "requests/s, all of them",
            everything,
            launch["stripe_requests_per_second"],
            "req/s",
            DOCS["stripe-global"],
            100,
        )
    )
    limits.append(
        Limit(
            "Stripe",
            "card flows' requests/s (the interactive budget)",
            interactive,
            launch["stripe_interactive_rate"],
            "req/s",
            DOCS["stripe-budget"],
        )
    )
    limits.append(
        Limit(
            "Stripe",
            "background requests/s (the worker's budget)",
            background,
            launch["stripe_background_rate"],
            "req/s",
            DOCS["stripe-budget"],
        )
    )
    endpoints: dict[str, float] = defaultdict(float)
    for m in measured:
        for endpoint, count in m.per_run(m.usage.stripe).items():
            endpoints[endpoint] += m.rate * count
    for endpoint, load in sorted(endpoints.items(), key=lambda kv: -kv[1])[:4]:
        limits.append(
            Limit(
                "Stripe",
                f"endpoint {endpoint}",
                load,
                launch["stripe_requests_per_second"],
                "req/s",
                DOCS["stripe-global"] + " (no lower limit documented for this endpoint)",
            )
        )
    limits.append(
        Limit(
            "Stripe",
            "updates per PaymentIntent per hour (create+confirm, then cancel)",
            3,
            1000,
            "per hour",
            DOCS["stripe-intent"],
        )
    )

    # SES
    ses = total(lambda m: calls(m, "sesv2", "SendEmail") + calls(m, "ses"))
    limits.append(Limit("SES", "messages/s", ses, launch["ses_sends_per_second"], "msg/s", DOCS["ses"], 14))
    limits.append(
        Limit(
            "SES",
            "messages a day (the peak held all day)",
            ses * 86_400,
            launch["ses_sends_per_day"],
            "msg/day",
            DOCS["ses"],
            50_000,
        )
    )
    return limits


# ---------------------------------------------------------------------------------------- printing


def report(measured: list[Measured], limits: list[Limit], profile: Profile) -> bool:
    print("Capacity model (issue 14): counted per operation on the local stack, times the profile")
    print(f"{'operation':<34}{'rate/s':>10}{'AWS req':>9}{'WCU':>7}{'idx WCU':>8}{'RCU':>7}{'Stripe':>8}  calls")
    for m in measured:
        aws = sum(m.usage.calls.values()) / m.runs
        wcu = sum(m.usage.write_units.values()) / m.runs
        index = sum(m.usage.index_units.values()) / m.runs
        rcu = sum(m.usage.read_units.values()) / m.runs
        stripe = sum(m.usage.stripe.values()) / m.runs
        ops = ", ".join(f"{o}×{v / m.runs:g}" for (_, o), v in sorted(m.usage.calls.items()))
        print(f"{m.name:<34}{m.rate:>10,.2f}{aws:>9.1f}{wcu:>7.1f}{index:>8.1f}{rcu:>7.1f}{stripe:>8.1f}  {ops}")
        if m.usage.stripe:
            endpoints = ", ".join(f"{e}×{v / m.runs:g}" for e, v in sorted(m.usage.stripe.items()))
            print(f"{'':<34}(Stripe: {endpoints})")
        if m.note:
            print(f"{'':<34}({m.note})")
    print()
    print(f"{'limit':<92}{'load':>14}{'limit':>14}{'headroom':>10}")
    ok = True
    for limit in limits:
        fine = limit.headroom >= 1
        ok &= fine
        increase = (
            f"  [ask: {limit.limit:,.0f}; default {limit.default:,.0f}]"
            if limit.default is not None and limit.limit > limit.default
            else ""
        )
        shown = "∞" if math.isinf(limit.headroom) else f"{limit.headroom:.2f}"
        limit_text = "unlimited" if math.isinf(limit.limit) else f"{limit.limit:,.0f}"
        flag = "" if fine else "  SHORT"
        label = f"{limit.area}: {limit.name}"
        print(f"{label:<92.92}{limit.load:>14,.1f}{limit_text:>14}{shown:>10}{flag}{increase}")
    print()
    print("Sources:")
    for key, text in DOCS.items():
        print(f"  [{key}] {text}")
    print(f"\nEvery limit has headroom ≥ 1 at this profile: {'yes' if ok else 'NO'}")
    return ok


def run(profile: Profile) -> bool:
    os.environ.pop("STRIPE_SECRET_KEY", None)
    logging.getLogger("local").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="capacity-") as state, contextlib.ExitStack() as stack_scope:
        # The clock, the event poller and the webhook thread stay still: the model drives each
        # event source itself, so that every request is the operation's own.
        # moto's transactions and queries would otherwise slow down as the table fills
        stack_scope.enter_context(moto_speed.installed())
        stack = stack_scope.enter_context(LocalStack(state_dir=Path(state), clock_interval=3600, poll_interval=3600))
        runtime = stack.runtime
        if runtime is not None:
            # The model counts requests; how long a function takes here, against moto on a shared
            # machine, says nothing of Lambda (concurrency comes from typical latencies): a run past
            # the template's timeout is counted like any other, not thrown away and repeated.
            for logical_id, function in runtime.functions.items():
                runtime.functions[logical_id] = dataclasses.replace(function, timeout=COUNTING_TIMEOUT)
        meter = Meter(stack)
        with meter.installed(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            measured = operations(Driver(stack, meter, profile), profile)
    limits = model(measured, profile)
    return report(measured, limits, profile)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profile", type=Path, default=Path(os.environ.get("CAPACITY_PROFILE") or PROFILE))
    arguments = parser.parse_args(argv)
    run(Profile.load(arguments.profile))


if __name__ == "__main__":
    main()
