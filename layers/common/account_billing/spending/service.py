"""Monthly spending against the plan's limit (DESIGN §5).

Usage charges arrive as `UsageRecorded` events on the usage bus, one charge or a batch of them
each (`models.UsageEvent`), through a queue that hands them over in batches. A batch is counted
per account and month: every charge once, however often it is delivered (its marker, written in
the same transaction as the addition to the spend), and the spend is read back after the
addition: the first batch that finds the spend at the plan's limit publishes
`SpendingLimitReached`, once per month, for other services to act on. Higher limits are asked for
here and granted by configuration.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from account_billing.accounts.records import Account
from account_billing.accounts.store import AccountStore
from account_billing.activity.records import ActivityKind
from account_billing.activity.service import ActivityLog
from account_billing.billing.plans import plan_of
from account_billing.core.clock import Clock, epoch_seconds, timestamp, utc_now
from account_billing.core.identity import Caller
from account_billing.core.observability import logger, metrics
from account_billing.core.pagination import decode_cursor, encode_cursor
from account_billing.spending.models import (
    LimitIncreasePage,
    LimitIncreaseRequest,
    LimitIncreaseView,
    SpendingView,
    UsageEvent,
)
from account_billing.spending.records import (
    LIMIT_REQUEST_PREFIX,
    LimitRequest,
    LimitRequestStatus,
    Spend,
    usage_marker_key,
)
from account_billing.spending.store import MAX_CHARGES_PER_TRANSACTION, SpendStore

# A charge delivered again is recognised for this long: longer than the usage queue and its
# dead-letter queue keep a message (4 + 14 days), so even a replay of the dead-letter queue
# counts nothing twice.
USAGE_MARKER_DAYS = 20
# A month's spend items stay this long after the month (DynamoDB's TTL then removes them).
SPEND_RETENTION_DAYS = 400
MAX_OPEN_LIMIT_REQUESTS = 5
# Accounts of one batch counted at once (each is a few DynamoDB requests, one after the other).
ACCOUNT_WORKERS = 16


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def month_end(month: str) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    return datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)


def monthly_limit(plan_key: str | None) -> int:
    """The plan's monthly spending limit in cents; the free plan may spend nothing."""
    return plan_of(plan_key).monthly_spending_limit or 0


def limit_reached(spent: int, limit: int) -> bool:
    return spent >= limit and spent > 0


def spending_view(plan_key: str | None, month: str, spend: Spend) -> SpendingView:
    spent = spend.spent_cents
    limit = monthly_limit(plan_key)
    return SpendingView(
        month=month,
        plan=plan_of(plan_key).key,
        spent_cents=spent,
        limit_cents=limit,
        share_used=round(spent / limit, 4) if limit else (1.0 if spent else 0.0),
        reached=limit_reached(spent, limit),
        reached_at=spend.limit_reached_at,
    )


@dataclass(frozen=True, slots=True)
class Usage:
    """One usage charge as delivered: which queue message it came in (`message_id`)."""

    account: str
    amount_cents: int
    usage_id: str
    source: str
    month: str
    message_id: str


def usages_of(message_id: str, event: UsageEvent) -> list[Usage]:
    """The charges of one delivered event, each in the month it occurred in."""
    return [
        Usage(
            account=charge.account,
            amount_cents=charge.amount_cents,
            usage_id=charge.idempotency_id,
            source=event.source,
            month=month_of(charge.occurred_at or event.time),
            message_id=message_id,
        )
        for charge in event.charges
    ]


def usages_in(records: Sequence[Mapping[str, Any]]) -> tuple[list[Usage], list[str]]:
    """The charges of a batch of usage queue messages (SQS records, each an EventBridge event),
    and the ids of the messages that are not usage events at all (poisoned: they are handed back
    until the queue moves them to its dead-letter queue; nothing of them is counted)."""
    usages: list[Usage] = []
    poisoned: list[str] = []
    for record in records:
        message_id = str(record.get("messageId"))
        try:
            body = record["body"]
            event = UsageEvent.model_validate_json(body) if isinstance(body, str) else UsageEvent.model_validate(body)
            usages.extend(usages_of(message_id, event))
        except (ValidationError, KeyError, TypeError) as exc:
            logger.error("Not a usage event; it goes to the dead-letter queue", extra={"message_id": message_id})
            logger.debug("Why the usage event was refused", extra={"error": str(exc)[:500]})
            poisoned.append(message_id)
    return usages, poisoned


@dataclass
class UsageOutcome:
    """What a batch came to: charges counted now, counted before, of no (active) account; the
    limit events published; and the messages to deliver again (their account's group failed)."""

    counted: int = 0
    repeated: int = 0
    dropped: int = 0
    limits_reached: int = 0
    failed_messages: set[str] = field(default_factory=set)


@dataclass
class _GroupOutcome:
    counted: int = 0
    repeated: int = 0
    published: bool = False


class SpendingService:
    def __init__(
        self,
        accounts: AccountStore,
        spend: SpendStore,
        publish: Callable[[dict[str, Any]], None],
        clock: Clock = utc_now,
        *,
        workers: int = ACCOUNT_WORKERS,
        alerts: Callable[[str, str, str | None], None] | None = None,
        activity: ActivityLog | None = None,
    ) -> None:
        """`alerts(account, month, plan)`: what else to check once the limit was (spending alerts)."""
        self.accounts = accounts
        self.spend = spend
        self.publish = publish
        self.clock = clock
        self.workers = workers
        self.alerts = alerts
        self.activity = activity or ActivityLog.of(spend.table, clock)

    def record_batch(self, usages: Sequence[Usage]) -> UsageOutcome:
        """Count a batch of usage charges: per account and month, in transactions of up to 99
        charges. A group that fails (DynamoDB throttled it, its transactions kept conflicting,
        the limit event could not be published) names its messages in `failed_messages`, to be
        delivered again; whatever of them was counted is a repeat then, never counted twice."""
        outcome = UsageOutcome()
        groups: dict[tuple[str, str], list[Usage]] = {}
        seen: set[tuple[str, str, str]] = set()
        for usage in usages:
            identity = (usage.account, usage.source, usage.usage_id)
            if identity in seen:  # the same charge twice in one batch: EventBridge delivered it twice
                outcome.repeated += 1
                continue
            seen.add(identity)
            groups.setdefault((usage.account, usage.month), []).append(usage)
        if not groups:
            return outcome
        accounts = self.accounts.get_many([account for account, _ in groups])

        def count(group: tuple[tuple[str, str], list[Usage]]) -> _GroupOutcome | None:
            (sub, month), charges = group
            try:
                return self._count_group(accounts.get(sub), sub, month, charges)
            except Exception:  # one account's failure must not stop the others: its messages come again
                logger.exception("Usage of an account not counted; its messages come again")
                return None

        with ThreadPoolExecutor(max(1, min(self.workers, len(groups))), thread_name_prefix="usage") as pool:
            results = list(pool.map(count, groups.items()))
        for (key, charges), result in zip(groups.items(), results, strict=True):
            if result is None:
                outcome.failed_messages.update(usage.message_id for usage in charges)
            elif key[0] not in accounts or not accounts[key[0]].active:
                outcome.dropped += len(charges)
            else:
                outcome.counted += result.counted
                outcome.repeated += result.repeated
                outcome.limits_reached += result.published
        return outcome

    def _count_group(self, account: Account | None, sub: str, month: str, charges: list[Usage]) -> _GroupOutcome:
        result = _GroupOutcome()
        if account is None or not account.active:
            return result  # no account (any more): nothing of it is kept
        now = self.clock()
        for start in range(0, len(charges), MAX_CHARGES_PER_TRANSACTION):
            chunk = charges[start : start + MAX_CHARGES_PER_TRANSACTION]
            counted = self.spend.add_usage(
                sub,
                month,
                [(usage_marker_key(sub, u.source, u.usage_id), u.amount_cents) for u in chunk],
                now=timestamp(now),
                marker_expires_at=epoch_seconds(now + timedelta(days=USAGE_MARKER_DAYS)),
                spend_expires_at=epoch_seconds(month_end(month) + timedelta(days=SPEND_RETENTION_DAYS)),
            )
            result.counted += len(counted.counted)
            result.repeated += len(counted.repeated)
        # A repeat checks the limit too: its first delivery may have failed to publish.
        if result.counted or result.repeated:
            result.published = self._publish_if_reached(sub, month, account.plan)
            if self.alerts is not None:
                self.alerts(sub, month, account.plan)
        return result

    def _publish_if_reached(self, sub: str, month: str, plan_key: str | None) -> bool:
        """Read the month's spend back (strongly consistent, after this batch's addition: of
        concurrent batches the last to read sees every addition) and publish the limit event if
        the spend reached the limit and nobody has yet. True if this call published it."""
        limit = monthly_limit(plan_key)
        spend = self.spend.spend(sub, month)
        if spend.limit_reached_at or not limit_reached(spend.spent_cents, limit):
            return False
        marked_at = timestamp(self.clock())
        expires_at = epoch_seconds(month_end(month) + timedelta(days=SPEND_RETENTION_DAYS))
        if not self.spend.mark_reached(sub, month, limit, marked_at, expires_at):
            return False
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
            # Nobody has heard of it: forget the mark, so the batch's redelivery publishes it.
            self.spend.unmark_reached(sub, month, marked_at)
            metrics.add_metric(name="SpendingEventPublishFailed", unit="Count", value=1)
            raise
        return True

    def view(self, caller: Caller) -> SpendingView:
        account = self.accounts.require(caller.sub)
        month = month_of(self.clock())
        return spending_view(account.plan, month, self.spend.spend(caller.sub, month))

    def request_increase(self, caller: Caller, request: LimitIncreaseRequest) -> LimitIncreaseView:
        """Record a request for a higher limit: at most `MAX_OPEN_LIMIT_REQUESTS` open per
        account, counted atomically with the request itself (`SpendStore.put_limit_request`)."""
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
        self.spend.put_limit_request(limit_request, MAX_OPEN_LIMIT_REQUESTS, also=[entry])
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
