"""Monthly spending against the plan's limit (DESIGN §5).

Usage charges arrive as `UsageRecorded` events. Each is added to the account's spend for its
calendar month (UTC) once, however often it is delivered; the first event that takes the spend
to the plan's limit publishes `SpendingLimitReached`, once per month, for other services to act
on. Higher limits are asked for here and granted by configuration.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from account_billing.accounts.errors import AccountNotFound
from account_billing.accounts.store import AccountStore
from account_billing.activity.records import ActivityKind
from account_billing.activity.service import ActivityLog
from account_billing.billing.plans import plan_of
from account_billing.core.clock import Clock, epoch_seconds, timestamp, utc_now
from account_billing.core.identity import Caller
from account_billing.core.observability import logger, metrics
from account_billing.core.pagination import decode_cursor, encode_cursor
from account_billing.spending.errors import LimitRequestsExceeded
from account_billing.spending.models import (
    LimitIncreasePage,
    LimitIncreaseRequest,
    LimitIncreaseView,
    SpendingView,
    UsageRecorded,
)
from account_billing.spending.records import LIMIT_REQUEST_PREFIX, LimitRequest, LimitRequestStatus, Spend
from account_billing.spending.store import SpendStore

# A redelivered event is recognised for this long (EventBridge retries for at most a day).
USAGE_MARKER_DAYS = 40
MAX_OPEN_LIMIT_REQUESTS = 5


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def monthly_limit(plan_key: str | None) -> int:
    """The plan's monthly spending limit in cents; the free plan may spend nothing."""
    return plan_of(plan_key).monthly_spending_limit or 0


def spending_view(plan_key: str | None, month: str, spend: Spend) -> SpendingView:
    spent = spend.spent_cents
    limit = monthly_limit(plan_key)
    reached = spent >= limit and spent > 0
    return SpendingView(
        month=month,
        plan=plan_of(plan_key).key,
        spent_cents=spent,
        limit_cents=limit,
        share_used=round(spent / limit, 4) if limit else (1.0 if spent else 0.0),
        reached=reached,
        reached_at=spend.limit_reached_at,
    )


class SpendingService:
    def __init__(
        self,
        accounts: AccountStore,
        spend: SpendStore,
        publish: Callable[[dict[str, Any]], None],
        clock: Clock = utc_now,
        activity: ActivityLog | None = None,
    ) -> None:
        self.accounts = accounts
        self.spend = spend
        self.publish = publish
        self.clock = clock
        self.activity = activity or ActivityLog.of(spend.table, clock)

    def record_usage(self, usage: UsageRecorded, source: str, occurred_at: datetime) -> bool:
        """Count one usage event; True if it was counted now (False: a repeat, or no account)."""
        month = month_of(occurred_at)
        now = self.clock()
        counted = self.spend.add_usage(
            usage.account,
            month,
            source,
            usage.idempotency_id,
            usage.amount_cents,
            now=timestamp(now),
            marker_expires_at=epoch_seconds(now + timedelta(days=USAGE_MARKER_DAYS)),
        )
        if counted:
            metrics.add_metric(name="UsageRecorded", unit="Count", value=1)
        else:
            logger.info("Usage event not counted (a repeat, or the account is gone)")
        # A repeat checks the limit too: its first delivery may have failed to publish.
        account = self.accounts.get(usage.account)
        self._publish_if_reached(usage.account, month, account.plan if account else None)
        return counted

    def _publish_if_reached(self, sub: str, month: str, plan_key: str | None) -> None:
        limit = monthly_limit(plan_key)
        marked_at = timestamp(self.clock())
        if not self.spend.mark_reached(sub, month, limit, marked_at):
            return
        spend = self.spend.spend(sub, month)
        try:
            self.publish(
                {
                    "account": sub,
                    "month": month,
                    "plan": plan_of(plan_key).key,
                    "limit_cents": limit,
                    "spent_cents": spend.spent_cents,
                }
            )
        except Exception:
            # Nobody has heard of it: forget the mark, so the event's redelivery publishes it.
            self.spend.unmark_reached(sub, month, marked_at)
            metrics.add_metric(name="SpendingEventPublishFailed", unit="Count", value=1)
            raise
        metrics.add_metric(name="SpendingLimitReached", unit="Count", value=1)

    def view(self, caller: Caller) -> SpendingView:
        account = self.accounts.require(caller.sub)
        month = month_of(self.clock())
        return spending_view(account.plan, month, self.spend.spend(caller.sub, month))

    def request_increase(self, caller: Caller, request: LimitIncreaseRequest) -> LimitIncreaseView:
        open_requests, _ = self.spend.limit_requests(caller.sub, MAX_OPEN_LIMIT_REQUESTS + 1, None)
        if len(open_requests) >= MAX_OPEN_LIMIT_REQUESTS:
            raise LimitRequestsExceeded(f"At most {MAX_OPEN_LIMIT_REQUESTS} requests can be open; we will be in touch.")
        limit_request = LimitRequest(
            sub=caller.sub,
            id=f"lir_{uuid.uuid4().hex}",
            amount_cents=request.amount_cents,
            reason=request.reason,
            status=LimitRequestStatus.OPEN,
            created_at=timestamp(self.clock()),
        )
        entry = self.activity.entry(
            caller,
            ActivityKind.SPENDING_LIMIT_REQUESTED,
            limit_request.id,
            amount=request.amount_cents,
            currency="usd",
        )
        if not self.spend.put_limit_request(limit_request, also=[entry]):
            raise AccountNotFound()
        self.activity.committed(entry)
        metrics.add_metric(name="LimitIncreaseRequested", unit="Count", value=1)
        return _limit_request_view(limit_request)

    def limit_requests(self, caller: Caller, limit: int, cursor: str | None) -> LimitIncreasePage:
        items, last = self.spend.limit_requests(caller.sub, limit, decode_cursor(cursor, LIMIT_REQUEST_PREFIX))
        return LimitIncreasePage(requests=[_limit_request_view(r) for r in items], next_cursor=encode_cursor(last))


def _limit_request_view(request: LimitRequest) -> LimitIncreaseView:
    return LimitIncreaseView(
        id=request.id,
        amount_cents=request.amount_cents,
        reason=request.reason,
        status=request.status.value,
        created_at=request.created_at,
    )
