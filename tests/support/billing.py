"""Calls to the billing functions as a given caller, and reads of what billing stored."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from account_billing.billing.cards.service import CardService
from account_billing.billing.context import BillingContext
from account_billing.billing.holds.records import due_partitions
from account_billing.billing.holds.release import HoldReleaser
from account_billing.billing.holds.scheduling import ReleaseScheduler
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.settings import billing_settings
from account_billing.billing.stripe.gateway import StripeGateway, gateway_for
from account_billing.core.clock import Clock, utc_now
from account_billing.core.table import Table
from functions.payment_methods import app as payment_methods
from functions.preauth_release import app as preauth_release
from tests.support import table
from tests.support.events import call, http_event
from tests.support.profile import ProfileClient
from tests.support.queues import poll, waiting

SCHEDULE_GROUP = "test-hold-releases"
RELEASE_FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:test-preauth-release"
TASK_QUEUE = "test-StripeTaskQueue"  # as the template names it in the tests' stack (its policies do)
SCHEDULER_ROLE_ARN = "arn:aws:iam::123456789012:role/test-hold-release-scheduler"

Result = tuple[int, dict[str, str], Any]


class Cards:
    """The payment_methods function, invoked in-process with events from `events/payment_methods/`."""

    def __init__(self, sub: str = "user-1") -> None:
        self.sub = sub

    def create_account(self, user_id: str | None = None, **fields: Any) -> Result:
        return ProfileClient(self.sub).create(user_id or f"u_{self.sub.replace('-', '_')}", **fields)

    def _call(self, sample: str, **kwargs: Any) -> Result:
        return call(payment_methods.lambda_handler, http_event(f"payment_methods/{sample}", sub=self.sub, **kwargs))

    def setup_intent(self) -> Result:
        return self._call("create_setup_intent")

    def add(
        self, payment_method: Any = "pm_card_visa", *, key: str | None = "", plan: Any = None, **body: Any
    ) -> Result:
        payload = {"payment_method": payment_method, **({"plan": plan} if plan else {}), **body}
        headers = {"idempotency-key": (key or str(uuid.uuid4())) if key is not None else None}
        return self._call("add_payment_method", body=payload, headers=headers)

    def list(self) -> Result:
        return self._call("list_payment_methods")

    def set_default(self, payment_method_id: str) -> Result:
        return self._call("set_default_payment_method", path_parameters={"payment_method_id": payment_method_id})

    def remove(self, payment_method_id: str) -> Result:
        return self._call("remove_payment_method", path_parameters={"payment_method_id": payment_method_id})

    def reverify(self, payment_method_id: str, *, key: str | None = "") -> Result:
        headers = {"idempotency-key": (key or str(uuid.uuid4())) if key is not None else None}
        return self._call(
            "retry_verification", path_parameters={"payment_method_id": payment_method_id}, headers=headers
        )


class ReleaseContext:
    """A Lambda context whose remaining time the test chooses."""

    function_name = "test-preauth-release"
    function_version = "$LATEST"
    invoked_function_arn = RELEASE_FUNCTION_ARN
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000001"
    log_group_name = "/aws/lambda/test-preauth-release"
    log_stream_name = "test"

    def __init__(self, remaining_ms: int = 300_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def invoke_release(event: dict[str, Any], remaining_ms: int = 300_000) -> Any:
    return preauth_release.lambda_handler(event, ReleaseContext(remaining_ms))


def task_queue() -> str:
    return str(boto3.client("sqs").get_queue_url(QueueName=TASK_QUEUE)["QueueUrl"])


def queued_tasks() -> list[dict[str, Any]]:
    """The tasks waiting on the queue of background Stripe work."""
    return waiting(task_queue())


def drain_tasks(rounds: int = 10) -> list[dict[str, Any]]:
    """Run the queue of background Stripe work through the worker as Lambda's event source
    would; the worker's answers, one per batch."""
    return poll(task_queue(), lambda event, _: invoke_release(event), rounds=rounds)


def due_holds(until: datetime) -> list[Any]:
    """Every hold the due index lists as due by `until`, from all of its partitions."""
    store = HoldStore(new_table())
    return [hold for partition in due_partitions() for hold in store.due(partition, until)]


def holds(sub: str | None = None) -> list[dict[str, Any]]:
    return [i for i in table.all_items() if i.get("entity") == "hold" and (sub is None or i["sub"] == sub)]


def billing_items(sub: str) -> list[dict[str, Any]]:
    """The account's cards, card fingerprints and holds."""
    return [
        i
        for i in table.all_items()
        if i["PK"] == f"ACCOUNT#{sub}" and i["SK"].startswith(("CARD#", "CARDFP#", "HOLD#"))
    ]


def schedules() -> list[dict[str, Any]]:
    client = boto3.client("scheduler")
    summaries = client.list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"]
    return [dict(client.get_schedule(Name=s["Name"], GroupName=SCHEDULE_GROUP)) for s in summaries]


def new_table() -> Table:
    return Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])


def new_gateway(**kwargs: Any) -> StripeGateway:
    """A gateway of its own (one "container"), on the process's simulator."""
    return gateway_for(billing_settings(), **kwargs)


def new_context(gateway: StripeGateway | None = None, clock: Clock = utc_now) -> BillingContext:
    """Billing's context as another container would build it."""
    settings = billing_settings()
    return BillingContext(
        settings,
        new_table(),
        gateway or new_gateway(),
        scheduler=ReleaseScheduler.from_settings(boto3.client("scheduler"), settings),
        clock=clock,
    )


def new_service(gateway: StripeGateway | None = None, clock: Clock = utc_now) -> CardService:
    return CardService(new_context(gateway, clock))


def new_releaser(gateway: StripeGateway | None = None, clock: Clock = utc_now) -> HoldReleaser:
    return HoldReleaser(HoldStore(new_table()), gateway or new_gateway(), clock=clock)


def later(**delta: float) -> Any:
    """A clock that reads `delta` from now."""
    return lambda: datetime.now(UTC) + timedelta(**delta)
