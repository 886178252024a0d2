"""DynamoDB access for the activity log: entries are only ever appended (or left to expire)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from account_billing.activity.records import ACTIVITY_PREFIX, ActivityEntry, ActivityKind
from account_billing.core import keys
from account_billing.core.table import ConditionFailed, Table, TransactItem, marshal, unmarshal, values


class ActivityStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def append(self, entry: ActivityEntry) -> bool:
        """Write `entry`; False (nothing written) if it is already there: its operation was
        delivered again."""
        try:
            self.table.put(entry.to_item(), ConditionExpression="attribute_not_exists(SK)")
        except ConditionFailed:
            return False
        return True

    def put_action(self, entry: ActivityEntry) -> TransactItem:
        """`entry` as an action of the transaction that makes the change it records (the change
        and its entry are written together or not at all)."""
        return {"Put": {"Item": marshal(entry.to_item())}}

    def page(
        self, sub: str, limit: int, after_sk: str | None, kinds: Collection[ActivityKind] = ()
    ) -> tuple[list[ActivityEntry], str | None]:
        """One page of the account's entries, newest first, continuing after `after_sk`, only of
        `kinds` if given (then a page may hold fewer than `limit`: continue while the cursor
        comes back); and the SK the next page continues after."""
        names: dict[str, str] = {}
        query: dict[str, Any] = {
            "TableName": self.table.name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": values(pk=keys.account_pk(sub), prefix=ACTIVITY_PREFIX),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if kinds:
            placeholders = [f":k{i}" for i in range(len(kinds))]
            query["FilterExpression"] = f"#kind IN ({', '.join(placeholders)})"
            names["#kind"] = "kind"
            query["ExpressionAttributeValues"] |= values(**{f"k{i}": k for i, k in enumerate(sorted(kinds))})
            query["ExpressionAttributeNames"] = names
        if after_sk:
            query["ExclusiveStartKey"] = marshal({"PK": keys.account_pk(sub), "SK": after_sk})
        page = self.table.client.query(**query)
        entries = [ActivityEntry.from_item(unmarshal(item)) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return entries, (str(unmarshal(dict(last))["SK"]) if last else None)
