"""DynamoDB access for monthly spend, usage de-duplication and limit-increase requests."""

from __future__ import annotations

from typing import Any

from .accounts import account_is_active
from .keys import Key, account_pk
from .table import ConditionFailed, Table, TransactionCancelled, marshal, unmarshal, values


def spend_key(sub: str, month: str) -> Key:
    return {"PK": account_pk(sub), "SK": f"SPEND#{month}"}


def usage_key(sub: str, source: str, usage_id: str) -> Key:
    """The marker of one usage event: its presence makes a redelivery count nothing."""
    return {"PK": account_pk(sub), "SK": f"USAGE#{source}#{usage_id}"}


LIMIT_REQUEST_PREFIX = "LIMIT_REQUEST#"


class SpendStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add_usage(self, sub: str, month: str, marker: Key, amount: int, *, now: str, marker_expires_at: int) -> bool:
        """Add `amount` to the month's spend, once per usage event, for an active account only.
        One transaction: the marker's conditional put and the increment stand or fall together.
        False when the event was already counted or the account is gone."""
        try:
            self.table.transact(
                [
                    account_is_active(sub),
                    {
                        "Put": {
                            "Item": marshal({**marker, "entity": "usage", "expires_at": marker_expires_at}),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Update": {
                            "Key": marshal(spend_key(sub, month)),
                            "UpdateExpression": "SET entity = :entity, updated_at = :now ADD spent_cents :amount",
                            "ExpressionAttributeValues": values(entity="spend", now=now, amount=amount),
                        }
                    },
                ]
            )
        except TransactionCancelled as exc:
            if exc.failed(0) or exc.failed(1):
                return False
            raise
        return True

    def get_spend(self, sub: str, month: str) -> dict[str, Any] | None:
        return self.table.get(spend_key(sub, month), consistent=True)

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

    def put_limit_request(self, sub: str, item: dict[str, Any]) -> bool:
        """Store a limit-increase request of an active account; False if there is none."""
        try:
            self.table.transact(
                [
                    account_is_active(sub),
                    {"Put": {"Item": marshal(item), "ConditionExpression": "attribute_not_exists(PK)"}},
                ]
            )
        except TransactionCancelled as exc:
            if exc.failed(0):
                return False
            raise
        return True

    def limit_requests(self, sub: str, limit: int, after_sk: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the account's limit-increase requests, newest first, and the SK to go on from."""
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": values(pk=account_pk(sub), prefix=LIMIT_REQUEST_PREFIX),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after_sk:
            kwargs["ExclusiveStartKey"] = marshal({"PK": account_pk(sub), "SK": after_sk})
        page = self.table.client.query(**kwargs)
        items = [unmarshal(item) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return items, unmarshal(last)["SK"] if last else None
