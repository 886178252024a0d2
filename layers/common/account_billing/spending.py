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

from .billing.plans import plan_of
from .data.accounts import AccountStore
from .data.spending import LIMIT_REQUEST_PREFIX, SpendStore, usage_key
from .errors import AccountNotFound, LimitRequestsExceeded
from .identity import Caller
from .models.spending_requests import LimitIncreaseRequest, UsageRecorded
from .models.spending_responses import LimitIncreasePage, LimitIncreaseView, SpendingView
from .observability import logger, metrics
from .pagination import decode_cursor, encode_cursor

# A redelivered event is recognised for this long (EventBridge retries for at most a day).
USAGE_MARKER_DAYS = 40
MAX_OPEN_LIMIT_REQUESTS = 5


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def monthly_limit(plan_key: str | None) -> int:
    """The plan's monthly spending limit in cents; the free plan may spend nothing."""
    return plan_of(plan_key).monthly_spending_limit or 0


def spending_view(plan_key: str | None, month: str, spend: dict[str, Any] | None) -> SpendingView:
    spent = int((spend or {}).get("spent_cents", 0))
    limit = monthly_limit(plan_key)
    reached = spent >= limit and spent > 0
    return SpendingView(
        month=month,
        plan=plan_of(plan_key).key,
        spent_cents=spent,
        limit_cents=limit,
        share_used=round(spent / limit, 4) if limit else (1.0 if spent else 0.0),
        reached=reached,
        reached_at=(spend or {}).get("limit_reached_at"),
    )


class SpendingService:
    def __init__(
        self,
        accounts: AccountStore,
        spend: SpendStore,
        publish: Callable[[dict[str, Any]], None],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.accounts = accounts
        self.spend = spend
        self.publish = publish
        self.clock = clock or (lambda: datetime.now(UTC))

    def record_usage(self, usage: UsageRecorded, source: str, occurred_at: datetime) -> bool:
        """Count one usage event; True if it was counted now (False: a repeat, or no account)."""
        month = month_of(occurred_at)
        now = self.clock()
        counted = self.spend.add_usage(
            usage.account,
            month,
            usage_key(usage.account, source, usage.idempotency_id),
            usage.amount_cents,
            now=_timestamp(now),
            marker_expires_at=int((now + timedelta(days=USAGE_MARKER_DAYS)).timestamp()),
        )
        if counted:
            metrics.add_metric(name="UsageRecorded", unit="Count", value=1)
        else:
            logger.info("Usage event not counted (a repeat, or the account is gone)")
        # A repeat checks the limit too: its first delivery may have failed to publish.
        account = self.accounts.get(usage.account) or {}
        self._publish_if_reached(usage.account, month, account.get("plan"))
        return counted

    def _publish_if_reached(self, sub: str, month: str, plan_key: str | None) -> None:
        limit = monthly_limit(plan_key)
        marked_at = _timestamp(self.clock())
        if not self.spend.mark_reached(sub, month, limit, marked_at):
            return
        spend = self.spend.get_spend(sub, month) or {}
        try:
            self.publish(
                {
                    "account": sub,
                    "month": month,
                    "plan": plan_of(plan_key).key,
                    "limit_cents": limit,
                    "spent_cents": int(spend.get("spent_cents", 0)),
                }
            )
        except Exception:
            # Nobody has heard of it: forget the mark, so the event's redelivery publishes it.
            self.spend.unmark_reached(sub, month, marked_at)
            raise
        metrics.add_metric(name="SpendingLimitReached", unit="Count", value=1)

    def view(self, caller: Caller) -> SpendingView:
        account = self.accounts.get(caller.sub)
        if account is None:
            raise AccountNotFound("The caller has no account.")
        month = month_of(self.clock())
        return spending_view(account.get("plan"), month, self.spend.get_spend(caller.sub, month))

    def request_increase(self, caller: Caller, request: LimitIncreaseRequest) -> LimitIncreaseView:
        open_requests, _ = self.spend.limit_requests(caller.sub, MAX_OPEN_LIMIT_REQUESTS + 1, None)
        if len(open_requests) >= MAX_OPEN_LIMIT_REQUESTS:
            raise LimitRequestsExceeded(f"At most {MAX_OPEN_LIMIT_REQUESTS} requests can be open; we will be in touch.")
        created = _timestamp(self.clock())
        request_id = f"lir_{uuid.uuid4().hex}"
        item = {
            "PK": f"ACCOUNT#{caller.sub}",
            "SK": f"{LIMIT_REQUEST_PREFIX}{created}#{request_id}",
            "entity": "limit_request",
            "id": request_id,
            "amount_cents": request.amount_cents,
            "reason": request.reason,
            "status": "open",
            "created_at": created,
        }
        if not self.spend.put_limit_request(caller.sub, item):
            raise AccountNotFound("The caller has no account.")
        metrics.add_metric(name="LimitIncreaseRequested", unit="Count", value=1)
        return _limit_request_view(item)

    def limit_requests(self, caller: Caller, limit: int, cursor: str | None) -> LimitIncreasePage:
        items, last = self.spend.limit_requests(caller.sub, limit, decode_cursor(cursor, LIMIT_REQUEST_PREFIX))
        return LimitIncreasePage(requests=[_limit_request_view(i) for i in items], next_cursor=encode_cursor(last))


def _limit_request_view(item: dict[str, Any]) -> LimitIncreaseView:
    return LimitIncreaseView(
        id=item["id"],
        amount_cents=item["amount_cents"],
        reason=item["reason"],
        status=item["status"],
        created_at=item["created_at"],
    )
