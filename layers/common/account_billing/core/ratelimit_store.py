"""DynamoDB access for the rate-limit windows (`ratelimit_windows`): one counter item per
subject and window, `LIMIT#<scope>#<subject>` / `<window start>` (DESIGN §4), counted with one
conditional UpdateItem and removed by DynamoDB's TTL once its window is over."""

from __future__ import annotations

from account_billing.core.keys import Key
from account_billing.core.table import ConditionFailed, Table, TransactItem, marshal, values


def window_key(scope: str, subject: str, start: str) -> Key:
    """The counter of `subject`'s events of the kind `scope` in the window starting at `start`."""
    return {"PK": f"LIMIT#{scope}#{subject}", "SK": start}


class WindowStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def take_action(self, key: Key, limit: int, expires_at: int) -> TransactItem:
        """`take` as an action of a transaction: it cancels the transaction when the window is full."""
        return {
            "Update": {
                "Key": marshal(key),
                "UpdateExpression": "ADD #count :one SET expires_at = if_not_exists(expires_at, :expires)",
                "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
                "ExpressionAttributeNames": {"#count": "count"},
                "ExpressionAttributeValues": values(one=1, limit=limit, expires=expires_at),
            }
        }

    def take(self, key: Key, limit: int, expires_at: int) -> int | None:
        """Count one event in the window at `key` unless it holds `limit` already (`ADD` with a
        `< :limit` condition, nothing read first): how many it holds now, or None when it was
        full (nothing counted). The item expires at `expires_at` (epoch seconds, its TTL)."""
        try:
            item = self.table.update(
                key,
                UpdateExpression="ADD #count :one SET expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues=values(one=1, limit=limit, expires=expires_at),
            )
        except ConditionFailed:
            return None
        return int(item["count"])
