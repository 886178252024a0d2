"""DynamoDB access for monthly spend, usage de-duplication and limit-increase requests."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from account_billing.accounts.errors import AccountNotFound
from account_billing.accounts.records import AccountStatus
from account_billing.core import keys
from account_billing.core.errors import ConcurrentUpdate
from account_billing.core.table import (
    MAX_TRANSACTION_ITEMS,
    ConditionFailed,
    Table,
    TransactionCancelled,
    TransactItem,
    marshal,
    values,
)
from account_billing.spending.errors import LimitRequestsExceeded
from account_billing.spending.records import (
    LIMIT_REQUEST_PREFIX,
    SPEND_SHARDS,
    LimitRequest,
    Spend,
    month_prefix,
    spend_key,
    spend_part_key,
)

# Usage charges counted in one transaction: their markers and the one addition to the spend.
MAX_CHARGES_PER_TRANSACTION = MAX_TRANSACTION_ITEMS - 1
# A transaction that conflicts with another on the same spend part is tried again on another
# part, up to this many tries in all (then the charges' messages come back from the queue).
CONFLICT_ATTEMPTS = 5


@dataclass
class Counted:
    """Which charges of a group (by index) were counted now, and which had been before."""

    counted: list[int] = field(default_factory=list)
    repeated: list[int] = field(default_factory=list)


class SpendStore:
    def __init__(self, table: Table, *, choose_part: Callable[[int], int] = random.randrange) -> None:
        self.table = table
        self.choose_part = choose_part

    def add_usage(
        self,
        sub: str,
        month: str,
        charges: Sequence[tuple[keys.Key, int]],
        *,
        now: str,
        marker_expires_at: int,
        spend_expires_at: int,
    ) -> Counted:
        """Count usage charges of one account and month: `charges` are (marker key, amount), at
        most `MAX_CHARGES_PER_TRANSACTION`. One transaction puts every marker (each only if it
        is not there) and adds their sum to one part of the month's spend: they stand or fall
        together. A marker that is there already is a charge counted before: it is dropped and
        the rest go again. Conflicts with concurrent transactions go again on another part;
        `TransactionCancelled` once they kept conflicting (nothing of the group was counted)."""
        if len(charges) > MAX_CHARGES_PER_TRANSACTION:
            raise ValueError(f"at most {MAX_CHARGES_PER_TRANSACTION} charges a transaction")
        outcome = Counted()
        pending = list(range(len(charges)))
        conflicts = 0
        while pending:
            markers = [
                {
                    "Put": {
                        "Item": marshal({**charges[i][0], "entity": "usage", "expires_at": marker_expires_at}),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
                for i in pending
            ]
            part = spend_part_key(sub, month, self.choose_part(SPEND_SHARDS))
            addition = {
                "Update": {
                    "Key": marshal(part),
                    "UpdateExpression": "SET entity = :entity, updated_at = :now, "
                    "expires_at = if_not_exists(expires_at, :expires) ADD spent_cents :amount",
                    "ExpressionAttributeValues": values(
                        entity="spend",
                        now=now,
                        expires=spend_expires_at,
                        amount=sum(charges[i][1] for i in pending),
                    ),
                }
            }
            try:
                self.table.transact([*markers, addition], attempts=1)
            except TransactionCancelled as exc:
                repeated = [i for position, i in enumerate(pending) if exc.failed(position)]
                if repeated:
                    outcome.repeated.extend(repeated)
                    pending = [i for i in pending if i not in repeated]
                    continue
                conflicts += 1
                if not exc.conflicting or conflicts >= CONFLICT_ATTEMPTS:
                    raise
                time.sleep(0.01 * 2**conflicts * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
                continue
            outcome.counted.extend(pending)
            break
        return outcome

    def spend(self, sub: str, month: str) -> Spend:
        """The month's spend: its header and parts, in one strongly consistent Query."""
        return Spend.from_items(self.table.query_partition(keys.account_pk(sub), month_prefix(month)))

    def mark_reached(self, sub: str, month: str, limit: int, now: str, expires_at: int) -> bool:
        """Record that the month's spend reached `limit` (the caller read it): true for exactly
        one caller per month."""
        try:
            self.table.update(
                spend_key(sub, month),
                UpdateExpression="SET entity = :entity, limit_reached_at = :now, limit_cents = :limit, "
                "expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(limit_reached_at)",
                ExpressionAttributeValues=values(entity="spend", now=now, limit=limit, expires=expires_at),
            )
        except ConditionFailed:
            return False
        return True

    def unmark_reached(self, sub: str, month: str, marked_at: str) -> None:
        """Undo `mark_reached` when its event could not be published, so a retry publishes it."""
        self.table.update(
            spend_key(sub, month),
            UpdateExpression="REMOVE limit_reached_at",
            ConditionExpression="limit_reached_at = :at",
            ExpressionAttributeValues=values(at=marked_at),
        )

    def put_limit_request(self, request: LimitRequest, limit: int, *, also: Sequence[TransactItem] = ()) -> None:
        """Store a limit-increase request of an active account that has fewer than `limit` open,
        counting it on the profile (`open_limit_requests`) in the same transaction: concurrent
        requests never get past the limit between them; with `also` (the activity log's entry).
        `AccountNotFound` if there is no active
        account, `LimitRequestsExceeded` if it has `limit` open already."""
        count: TransactItem = {
            "Update": {
                "Key": marshal(keys.profile_key(request.sub)),
                "UpdateExpression": "ADD open_limit_requests :one",
                "ConditionExpression": "#status = :active AND "
                "(attribute_not_exists(open_limit_requests) OR open_limit_requests < :limit)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(one=1, active=AccountStatus.ACTIVE, limit=limit),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        put: TransactItem = {
            "Put": {"Item": marshal(request.to_item()), "ConditionExpression": "attribute_not_exists(PK)"}
        }
        try:
            self.table.transact([count, put, *also])
        except TransactionCancelled as exc:
            if exc.failed(0):
                old = exc.items[0]
                if old is None or old.get("status") != AccountStatus.ACTIVE:
                    raise AccountNotFound() from exc
                raise LimitRequestsExceeded(f"At most {limit} requests can be open; we will be in touch.") from exc
            raise ConcurrentUpdate() from exc

    def limit_requests(self, sub: str, limit: int, after_sk: str | None) -> tuple[list[LimitRequest], str | None]:
        """A page of the account's limit-increase requests, newest first, and the SK to go on from."""
        items, last = self.table.newest_first(keys.account_pk(sub), LIMIT_REQUEST_PREFIX, limit, after_sk)
        return [LimitRequest.from_item(item) for item in items], last
