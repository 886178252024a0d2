"""Releases card pre-authorization holds: one hold when its one-time schedule fires, or every due
hold when the hourly sweeper schedule fires."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from account_billing.billing.context import BillingContext, build_context
from account_billing.billing.holds.release import HoldReleaser
from account_billing.billing.holds.sweeper import Sweeper, workers_for
from account_billing.billing.settings import billing_settings
from account_billing.billing.stripe.ratelimit import RateLimiter
from account_billing.core.observability import logger, metrics
from account_billing.core.wiring import per_container


class HoldToRelease(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    hold_id: Annotated[str, StringConstraints(pattern=r"^hold_[0-9a-f]{32}$")]


class ScheduledEvent(BaseModel):
    """`{"release": {...}}` from a hold's own schedule, `{"sweep": true}` from the hourly one."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    release: HoldToRelease | None = None
    sweep: bool = Field(default=False)


class HoldReleaseFailed(Exception):
    """Raised so that EventBridge Scheduler retries the invocation (then dead-letters it)."""


@per_container
def context() -> BillingContext:
    """Billing's context, its Stripe calls kept under the configured rate (shared by the
    one-time releases and the sweeper's threads)."""
    return build_context(RateLimiter(billing_settings().sweeper_stripe_rate))


@per_container
def releaser() -> HoldReleaser:
    return HoldReleaser(context().holds, context().gateway)


@per_container
def sweeper() -> Sweeper:
    return Sweeper(context().holds, releaser(), workers=workers_for(billing_settings().sweeper_stripe_rate))


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = ScheduledEvent.model_validate(event)
    if scheduled.release is not None:
        report = releaser().release(scheduled.release.account, scheduled.release.hold_id)
        if report.result == "failed":
            raise HoldReleaseFailed(scheduled.release.hold_id)
        return {"result": report.result, "outcome": report.outcome}
    if scheduled.sweep:
        swept = sweeper().sweep(context.get_remaining_time_in_millis)
        return {
            "due": swept.due,
            "released": swept.released,
            "skipped": swept.skipped,
            "failed": swept.failed,
            "stopped_early": swept.stopped_early,
        }
    raise ValueError("expected a `release` or `sweep` event")
