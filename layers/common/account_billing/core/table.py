"""Thin access to the service's DynamoDB table through the low-level client.

Items are plain dicts here (each feature's store turns them into its typed records); this
module marshals them and translates `ClientError` into the few outcomes callers act on (a failed
condition, a cancelled transaction). Only stores and this module build DynamoDB expressions.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from account_billing.core.keys import Key

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

# An item as read or written: attribute name to plain value.
type Item = dict[str, Any]
# One action of a TransactWriteItems call, without its TableName: `{"Put"|"Update"|"Delete"|
# "ConditionCheck": {...}}` with `Item`/`Key` and expression values already marshalled.
type TransactItem = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# DynamoDB accepts at most 100 actions in one TransactWriteItems call, 25 in a BatchWriteItem.
MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_WRITE = 25
# A transaction that collides with a concurrent one on the same item is cancelled with
# TransactionConflict; it is retried this many times (with backoff) before giving up.
TRANSACTION_ATTEMPTS = 4


class ConditionFailed(Exception):
    """A write's condition did not hold. `item` is the item as it was (None if absent)."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.item = item


class TransactionCancelled(Exception):
    """A transaction was cancelled. `reasons[i]` is the code for action i (None if it was fine);
    `items[i]` the item as it was, for actions that asked `ReturnValuesOnConditionCheckFailure`."""

    def __init__(self, reasons: list[str | None], items: list[dict[str, Any] | None] | None = None) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons
        self.items = items or [None] * len(reasons)

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"

    @property
    def conflicting(self) -> bool:
        """Another transaction touched the same items at the same time; a retry may succeed."""
        return "TransactionConflict" in self.reasons


def _plain_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def marshal(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_plain_value(v)) for k, v in item.items() if v is not None}


def unmarshal(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: `values(v=1)` → `{":v": {"N": "1"}}`."""
    return {f":{k}": _serializer.serialize(_plain_value(v)) for k, v in named.items()}


def owned_by(owner: str) -> dict[str, Any]:
    """The condition that a marker item belongs to `owner`, for a write or a transaction action."""
    return {
        "ConditionExpression": "#owner = :owner",
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": values(owner=owner),
    }


def _is_condition_failure(exc: ClientError) -> bool:
    code: str | None = exc.response.get("Error", {}).get("Code")
    return code == "ConditionalCheckFailedException"


class Table:
    """One DynamoDB table and the client that reaches it."""

    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client = client
        self.name = name

    def get(self, key: Key, *, consistent: bool = False) -> dict[str, Any] | None:
        response = self.client.get_item(TableName=self.name, Key=marshal(key), ConsistentRead=consistent)
        item = response.get("Item")
        return unmarshal(item) if item else None

    def update(self, key: Key, **kwargs: Any) -> dict[str, Any]:
        """UpdateItem returning the new item; `ConditionFailed` carries the old one."""
        try:
            response = self.client.update_item(
                TableName=self.name,
                Key=marshal(key),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **kwargs,
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                old: Any = exc.response.get("Item")  # ReturnValuesOnConditionCheckFailure
                raise ConditionFailed(unmarshal(old) if old else None) from exc
            raise
        return unmarshal(response["Attributes"])

    def delete(self, key: Key, **kwargs: Any) -> None:
        try:
            self.client.delete_item(TableName=self.name, Key=marshal(key), **kwargs)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed(None) from exc
            raise

    def put(self, item: Mapping[str, Any], **kwargs: Any) -> None:
        try:
            self.client.put_item(TableName=self.name, Item=marshal(item), **kwargs)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ConditionFailed(None) from exc
            raise

    def delete_if_owned(self, key: Key, owner: str) -> bool:
        """Delete a marker item only if `owner` holds it; False if it was not theirs (or gone)."""
        try:
            self.delete(key, **owned_by(owner))
        except ConditionFailed:
            return False
        return True

    def delete_many(self, keys: Iterable[Key]) -> None:
        """Delete items in batches, resending what DynamoDB leaves unprocessed."""
        pending: list[Any] = [{"DeleteRequest": {"Key": marshal(key)}} for key in keys]
        delay = 0.05
        while pending:
            batch, pending = pending[:MAX_BATCH_WRITE], pending[MAX_BATCH_WRITE:]
            response = self.client.batch_write_item(RequestItems={self.name: batch})
            unprocessed = list(response.get("UnprocessedItems", {}).get(self.name, []))
            if unprocessed:
                pending = unprocessed + pending
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def query_pages(self, **query: Any) -> Iterator[Item]:
        """Every item a Query finds, page by page (`query` holds its expressions, without the
        table name)."""
        kwargs: dict[str, Any] = {"TableName": self.name, **query}
        while True:
            page = self.client.query(**kwargs)
            yield from (unmarshal(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def query_partition(self, pk: str, sk_prefix: str | None = None) -> Iterator[Item]:
        """Every item of one partition (whose SK starts with `sk_prefix`, if given), page by
        page, strongly consistent."""
        condition = "PK = :pk" + (" AND begins_with(SK, :prefix)" if sk_prefix else "")
        return self.query_pages(
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values(pk=pk, **({"prefix": sk_prefix} if sk_prefix else {})),
            ConsistentRead=True,
        )

    def newest_first(self, pk: str, sk_prefix: str, limit: int, after_sk: str | None) -> tuple[list[Item], str | None]:
        """One page of a partition's items whose SK starts with `sk_prefix`, newest (highest SK)
        first, continuing after `after_sk`; and the SK the next page continues after."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": values(pk=pk, prefix=sk_prefix),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after_sk:
            kwargs["ExclusiveStartKey"] = marshal({"PK": pk, "SK": after_sk})
        page = self.client.query(**kwargs)
        items = [unmarshal(item) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return items, (str(unmarshal(dict(last))["SK"]) if last else None)

    def batch_get(self, wanted: Sequence[Key]) -> list[Item]:
        """BatchGetItem (strongly consistent) of at most 100 keys, resending what DynamoDB
        leaves unprocessed."""
        if len(wanted) > 100:
            raise ValueError("BatchGetItem takes at most 100 keys")
        request: dict[str, Any] = {self.name: {"Keys": [marshal(k) for k in wanted], "ConsistentRead": True}}
        found: list[Item] = []
        delay = 0.05
        while request:
            response = self.client.batch_get_item(RequestItems=request)
            found.extend(unmarshal(item) for item in response.get("Responses", {}).get(self.name, []))
            request = dict(response.get("UnprocessedKeys") or {})
            if request:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        return found

    def transact_unless(self, actions: Sequence[Mapping[str, Any]], *conditions: int) -> bool:
        """`transact`, or False (nothing written) when the condition of one of the actions at
        `conditions` did not hold; any other cancellation raises."""
        try:
            self.transact(actions)
        except TransactionCancelled as exc:
            if any(exc.failed(index) for index in conditions):
                return False
            raise
        return True

    def transact(self, actions: Sequence[Mapping[str, Any]], *, attempts: int = TRANSACTION_ATTEMPTS) -> None:
        """TransactWriteItems. Each action is `{"Put"|"Update"|"Delete"|"ConditionCheck": {...}}`
        without `TableName`, with `Item`/`Key` and expression values already marshalled. A
        conflict with a concurrent transaction is tried again, up to `attempts` tries in all."""
        if len(actions) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} actions")
        items: Any = [{kind: {"TableName": self.name, **body} for kind, body in a.items()} for a in actions]
        for attempt in range(1, attempts + 1):
            try:
                self.client.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
                codes = [None if r.get("Code") in (None, "None") else r["Code"] for r in reasons]
                old_items = [unmarshal(r["Item"]) if r.get("Item") else None for r in reasons]
                cancelled = TransactionCancelled(codes, old_items)
                if "ConditionalCheckFailed" in codes or not cancelled.conflicting or attempt == attempts:
                    raise cancelled from exc
                time.sleep(0.02 * 2**attempt)
