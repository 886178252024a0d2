"""DynamoDB access for monthly spend, usage de-duplication and limit-increase requests."""

from __future__ import annotations

from collections.abc import Sequence

from account_billing.accounts.store import account_is_active
from account_billing.core import keys
from account_billing.core.table import ConditionFailed, Table, TransactItem, marshal, values
from account_billing.spending.records import LIMIT_REQUEST_PREFIX, LimitRequest, Spend, spend_key, usage_key


class SpendStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add_usage(
        self, sub: str, month: str, source: str, usage_id: str, amount: int, *, now: str, marker_expires_at: int
    ) -> bool:
        """Add `amount` to the month's spend, once per usage event, for an active account only.
        One transaction: the marker's conditional put and the increment stand or fall together.
        False when the event was already counted or the account is gone."""
        marker = {**usage_key(sub, source, usage_id), "entity": "usage", "expires_at": marker_expires_at}
        return self.table.transact_unless(
            [
                account_is_active(sub),
                {"Put": {"Item": marshal(marker), "ConditionExpression": "attribute_not_exists(PK)"}},
                {
                    "Update": {
                        "Key": marshal(spend_key(sub, month)),
                        "UpdateExpression": "SET entity = :entity, updated_at = :now ADD spent_cents :amount",
                        "ExpressionAttributeValues": values(entity="spend", now=now, amount=amount),
                    }
                },
            ],
            0,
            1,
        )

    def spend(self, sub: str, month: str) -> Spend:
        return Spend.from_item(self.table.get(spend_key(sub, month), consistent=True))

    def mark_reached(self, sub: str, month: str, limit: int, now: str) -> bool:
        """Record that the month's spend reached `limit`: true for exactly one caller per month."""
        try:
            self.table.update(
                spend_key(sub, month),
                UpdateExpression="SET limit_reached_at = :now, limit_cents = :limit",
                ConditionExpression="attribute_exists(PK) AND spent_cents >= :limit AND "
                "spent_cents > :zero AND attribute_not_exists(limit_reached_at)",
                ExpressionAttributeValues=values(now=now, limit=limit, zero=0),
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

    def put_limit_request(self, request: LimitRequest, *, also: Sequence[TransactItem] = ()) -> bool:
        """Store a limit-increase request of an active account (with `also`, unconditional
        actions written with it: the activity log's entry); False if there is none."""
        return self.table.transact_unless(
            [
                account_is_active(request.sub),
                {"Put": {"Item": marshal(request.to_item()), "ConditionExpression": "attribute_not_exists(PK)"}},
                *also,
            ],
            0,
        )

    def limit_requests(self, sub: str, limit: int, after_sk: str | None) -> tuple[list[LimitRequest], str | None]:
        """A page of the account's limit-increase requests, newest first, and the SK to go on from."""
        items, last = self.table.newest_first(keys.account_pk(sub), LIMIT_REQUEST_PREFIX, limit, after_sk)
        return [LimitRequest.from_item(item) for item in items], last
