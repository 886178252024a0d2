"""The background Stripe worker: runs the tasks of the queue of background Stripe work (hold
releases, card detaches, default cards; `billing.tasks`) at this container's share of the
background rate, and, when the hourly sweeper schedule fires, queues every due hold.

A release invoked directly (`{"release": {...}}`, from a schedule created before releases went
through the queue) is still run here."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from account_billing.billing.context import BillingContext, build_context
from account_billing.billing.holds.release import HoldReleaser
from account_billing.billing.holds.sweeper import Sweeper
from account_billing.billing.settings import billing_settings
from account_billing.billing.stripe.ratelimit import RateLimiter, workers_for
from account_billing.billing.tasks import TaskRunner
from account_billing.core.observability import logger, metrics
from account_billing.core.wiring import per_container


class HoldToRelease(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    hold_id: Annotated[str, StringConstraints(pattern=r"^hold_[0-9a-f]{32}$")]


class ScheduledEvent(BaseModel):
    """`{"sweep": true}` from the hourly schedule; `{"release": {...}}` from an older hold's own."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    release: HoldToRelease | None = None
    sweep: bool = Field(default=False)


class HoldReleaseFailed(Exception):
    """Raised so that EventBridge Scheduler retries the invocation (then dead-letters it)."""


@per_container
def context() -> BillingContext:
    """Billing's context, its Stripe calls kept under this container's share of the background
    rate (shared by every task the container runs at once)."""
    return build_context(RateLimiter(billing_settings().stripe_rate_per_worker))


@per_container
def releaser() -> HoldReleaser:
    return HoldReleaser(context().holds, context().gateway)


@per_container
def runner() -> TaskRunner:
    return TaskRunner(context(), releaser())


@per_container
def sweeper() -> Sweeper:
    return Sweeper(context().holds, context().tasks)


@resumes_collection
@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        report = runner().run_messages(event["Records"], workers_for(billing_settings().stripe_rate_per_worker))
        done, skipped, failed = (report.results.get(result, 0) for result in ("done", "skipped", "failed"))
        if done:
            metrics.add_metric(name="StripeTaskDone", unit="Count", value=done)
        if skipped:
            metrics.add_metric(name="StripeTaskSkipped", unit="Count", value=skipped)
        if failed:
            metrics.add_metric(name="StripeTaskFailed", unit="Count", value=failed)
        # the hold releases among them, which the holds alarms and the dashboard watch
        if report.releases.get("done"):
            metrics.add_metric(name="HoldReleased", unit="Count", value=report.releases["done"])
        if report.releases.get("failed"):
            metrics.add_metric(name="HoldReleaseFailed", unit="Count", value=report.releases["failed"])
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in report.failed_messages]}
    scheduled = ScheduledEvent.model_validate(event)
    if scheduled.release is not None:
        released = releaser().release(scheduled.release.account, scheduled.release.hold_id)
        if released.result == "failed":
            raise HoldReleaseFailed(scheduled.release.hold_id)
        return {"result": released.result, "outcome": released.outcome}
    if scheduled.sweep:
        swept = sweeper().sweep(context.get_remaining_time_in_millis)
        return {
            "due": swept.due,
            "queued": swept.queued,
            "stopped_early": swept.stopped_early,
            "oldest_due_age_seconds": swept.oldest_due_age_seconds,
        }
    raise ValueError("expected an SQS batch, a `release` or a `sweep` event")
