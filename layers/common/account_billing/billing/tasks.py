"""Background Stripe work (DESIGN §6, §10): hold releases, card detaches and default-card updates
go on a queue (SQS) instead of being done inside a request, and the release function drains it
at the background share of Stripe's rate limit: at most `stripe_worker_concurrency` containers
(the queue's event source caps them), each with its own limiter at `stripe_background_rate /
stripe_worker_concurrency`. However many fall due at once, Stripe sees at most that rate from
them, and no caller waits for them.

A message is one task (the queue's contract; samples in `events/preauth_release/`):
`{"release": {"account", "hold_id"}}`, `{"detach": {"account", "payment_method_id"}}` or
`{"sync_default": {"account"}}`. Each is safe to run twice and in any order: a release claims
its hold first, a detach is skipped while the card is on the account (again), and a default-card
update sends Stripe the account's default as it is when the task runs.

A task that fails (Stripe unavailable) is reported back to the queue and comes again after the
queue's visibility timeout; one that keeps failing lands in the queue's dead-letter queue (an
alarm watches it). The hourly sweeper queues any due hold again anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from account_billing.billing.errors import PaymentProviderUnavailable
from account_billing.core.observability import logger, metrics

if TYPE_CHECKING:
    from types_boto3_sqs import SQSClient
    from types_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

    from account_billing.billing.context import BillingContext
    from account_billing.billing.holds.release import HoldReleaser

AccountKey = Annotated[str, StringConstraints(min_length=1, max_length=255)]
HoldId = Annotated[str, StringConstraints(pattern=r"^hold_[0-9a-f]{32}$")]
PaymentMethodId = Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,250}$")]

# SQS takes at most 10 messages in one SendMessageBatch.
MAX_SEND_BATCH = 10


class _Task(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReleaseHold(_Task):
    account: AccountKey
    hold_id: HoldId


class DetachCard(_Task):
    account: AccountKey
    payment_method_id: PaymentMethodId


class SyncDefaultCard(_Task):
    account: AccountKey


class StripeTask(_Task):
    """One message of the queue: exactly one task."""

    release: ReleaseHold | None = None
    detach: DetachCard | None = None
    sync_default: SyncDefaultCard | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> StripeTask:
        if sum(task is not None for task in (self.release, self.detach, self.sync_default)) != 1:
            raise ValueError("a task message holds exactly one of release, detach, sync_default")
        return self

    @property
    def kind(self) -> str:
        return "release" if self.release else "detach" if self.detach else "sync_default"

    def body(self) -> str:
        return self.model_dump_json(exclude_none=True)


def release_task(sub: str, hold_id: str) -> StripeTask:
    return StripeTask(release=ReleaseHold(account=sub, hold_id=hold_id))


def detach_task(sub: str, payment_method_id: str) -> StripeTask:
    return StripeTask(detach=DetachCard(account=sub, payment_method_id=payment_method_id))


def sync_default_task(sub: str) -> StripeTask:
    return StripeTask(sync_default=SyncDefaultCard(account=sub))


class TaskNotQueued(Exception):
    """SQS refused some of the tasks (after the client's retries)."""


class TaskQueue:
    """Puts tasks on the queue of background Stripe work."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, tasks: Sequence[StripeTask]) -> None:
        """Queue `tasks` (SendMessageBatch, ten at a time). `TaskNotQueued` if SQS refused any."""
        for start in range(0, len(tasks), MAX_SEND_BATCH):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(i), "MessageBody": task.body()}
                for i, task in enumerate(tasks[start : start + MAX_SEND_BATCH])
            ]
            response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if response.get("Failed"):
                codes = sorted({failure["Code"] for failure in response["Failed"]})
                raise TaskNotQueued(f"SQS refused {len(response['Failed'])} task(s): {', '.join(codes)}")

    def later(self, task: StripeTask) -> bool:
        """Queue one task from a request that has done its own part already: a failure is logged
        and counted (`StripeTaskNotQueued`), never the caller's error. True if it was queued."""
        try:
            self.send([task])
        except (TaskNotQueued, ClientError, BotoCoreError) as exc:
            logger.error("Background Stripe task not queued", extra={"task": task.kind, "error": str(exc)})
            metrics.add_metric(name="StripeTaskNotQueued", unit="Count", value=1)
            return False
        return True


TaskResult = Literal["done", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What a batch of queue messages came to: message ids to hand back, and counts by result."""

    failed_messages: list[str]
    results: dict[str, int]
    releases: dict[str, int] = field(default_factory=dict)  # results of the hold releases among them


class TaskRunner:
    """Runs tasks with the billing context of the background worker (its Stripe gateway is
    rate limited to the container's share)."""

    def __init__(self, context: BillingContext, releaser: HoldReleaser) -> None:
        self.context = context
        self.releaser = releaser

    def run(self, task: StripeTask) -> TaskResult:
        try:
            if task.release is not None:
                result = self.releaser.release_due(task.release.account, task.release.hold_id).result
                return "done" if result == "released" else result
            if task.detach is not None:
                return self._detach(task.detach)
            if task.sync_default is not None:
                return self._sync_default(task.sync_default)
        except PaymentProviderUnavailable:
            logger.warning("Background Stripe task failed; it will come again", extra={"task": task.kind})
            return "failed"
        raise AssertionError("a task holds exactly one kind")

    def _detach(self, task: DetachCard) -> TaskResult:
        if self.context.cards.get(task.account, task.payment_method_id) is not None:
            return "skipped"  # the card is on the account (again): it stays attached
        self.context.gateway.cards.detach(task.payment_method_id)
        return "done"

    def _sync_default(self, task: SyncDefaultCard) -> TaskResult:
        account = self.context.accounts.get(task.account, consistent=True)
        if account is None or not account.active or not account.stripe_customer_id:
            return "skipped"
        if not account.default_payment_method:
            return "skipped"
        self.context.gateway.customers.set_default_payment_method(
            account.stripe_customer_id, account.default_payment_method
        )
        return "done"

    def run_messages(self, records: Iterable[Mapping[str, Any]], workers: int) -> BatchReport:
        """Run the tasks of a batch of SQS records on `workers` threads; the ids of the messages
        to hand back (failed, or not a task at all: those reach the dead-letter queue after the
        queue's receive count, and are logged)."""
        parsed: list[tuple[str, StripeTask | None]] = []
        for record in records:
            try:
                parsed.append((str(record["messageId"]), StripeTask.model_validate(json.loads(record["body"]))))
            except (ValidationError, ValueError, KeyError, TypeError):
                logger.error("Not a background Stripe task", extra={"message_id": record.get("messageId")})
                parsed.append((str(record.get("messageId")), None))

        def run(task: StripeTask | None) -> TaskResult:
            if task is None:
                return "failed"
            try:
                return self.run(task)
            except Exception:  # one task's unexpected failure must not stop the others
                logger.exception("Background Stripe task raised", extra={"task": task.kind})
                return "failed"

        with ThreadPoolExecutor(max(1, min(workers, len(parsed))), thread_name_prefix="tasks") as pool:
            results = list(pool.map(run, [task for _, task in parsed]))
        counts: dict[str, int] = {}
        releases: dict[str, int] = {}
        for (_, task), result in zip(parsed, results, strict=True):
            counts[result] = counts.get(result, 0) + 1
            if task is not None and task.release is not None:
                releases[result] = releases.get(result, 0) + 1
        failed = [message_id for (message_id, _), result in zip(parsed, results, strict=True) if result == "failed"]
        return BatchReport(failed, counts, releases)
