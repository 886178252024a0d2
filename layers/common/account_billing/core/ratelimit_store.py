"""DynamoDB access for the rate-limit windows (`ratelimit_windows`): one counter item per
subject and window, `LIMIT#<scope>#<subject>` / `<window start>` (DESIGN §4), counted with one
conditional UpdateItem and removed by DynamoDB's TTL once its window is over."""

from __future__ import annotations

from account_billing.core.keys import Key
from account_billing.core.table import ConditionFailed, Table, TransactItem, marshal, values


def _taking(limit: int, expires_at: int, amount: int = 1) -> dict[str, object]:
    """Add `amount` to a window's count unless that takes it past `limit`."""
    return {
        "UpdateExpression": "ADD #count :amount SET expires_at = if_not_exists(expires_at, :expires)",
        "ConditionExpression": "attribute_not_exists(#count) OR #count <= :room",
        "ExpressionAttributeNames": {"#count": "count"},
        "ExpressionAttributeValues": values(amount=amount, room=limit - amount, expires=expires_at),
    }


def window_key(scope: str, subject: str, start: str) -> Key:
    """The counter of `subject`'s events of the kind `scope` in the window starting at `start`."""
    return {"PK": f"LIMIT#{scope}#{subject}", "SK": start}


class WindowStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def take(self, key: Key, limit: int, expires_at: int, amount: int = 1) -> int | None:
        """Count `amount` events in the window at `key` unless that would take it past `limit`
        (`ADD` with a `<= :limit - amount` condition, nothing read first): how many it holds
        now, or None when they did not fit (nothing counted). The item expires at `expires_at`
        (epoch seconds, its TTL)."""
        if amount > limit:
            return None
        try:
            item = self.table.update(key, **_taking(limit, expires_at, amount))
        except ConditionFailed:
            return None
        return int(item["count"])

    @staticmethod
    def take_action(key: Key, limit: int, expires_at: int) -> TransactItem:
        """`take` as an action of a caller's transaction: the transaction is cancelled, this
        action's condition failing, when the window holds `limit` already."""
        return {"Update": {"Key": marshal(key), **_taking(limit, expires_at)}}

    def give_back(self, key: Key) -> None:
        """Uncount one event counted at `key` (what it was for did not happen); never below 0."""
        try:
            self.table.update(
                key,
                UpdateExpression="ADD #count :minus_one",
                ConditionExpression="#count > :zero",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues=values(minus_one=-1, zero=0),
            )
        except ConditionFailed:
            return
