"""moto's DynamoDB at the capacity model's scale: two of its costs that grow with the table.

The capacity model fills the local stack's table with thousands of items (usage markers, a
few thousand a usage batch), and moto 5.2 does two things whose cost grows with the table:

- `TransactWriteItems` backs up by deep-copying the whole table once per item of the
  transaction (`DynamoDBBackend.transact_write_items`), to restore it if the transaction is
  cancelled;
- a `Query` sorts every item of the table by the table's key (`Table.all_items`) before it
  keeps the partition's, or those of an index's partition (which it sorts again).

A usage batch (about 90 transactions and 90 queries) then took minutes and ran past the
function's timeout, and the sweeper's index queries past its client's read timeout. Here a
transaction backs up only the items it names, a query on the table's key looks at its
partition only, and an index query skips the table's order. The outcome is the same: the local stack applies
DynamoDB requests one at a time (`local.dynamodb_atomic`), so nothing but the transaction
writes while it runs, and it writes only the items it names; a query's partition is the only
place its items can be.

`installed()` is for the capacity model's run only (`bench.capacity`); nothing else changes.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

_transact_write_items = DynamoDBBackend.transact_write_items
_query = Table.query
_query_signature = inspect.signature(_query)


def _deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """`copy.deepcopy`, except that a table is its own "copy" (the items are backed up instead)."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _target(backend: DynamoDBBackend, op: dict[str, Any]) -> tuple[Table, Any, Any] | None:
    """The table and key an action of a transaction writes (None: moto refuses it before writing)."""
    table_name = op.get("TableName")
    if not table_name or table_name not in backend.tables:
        return None
    table = backend.tables[table_name]
    key = op.get("Key") or {
        name: op.get("Item", {}).get(name) for name in (table.hash_key_attr, table.range_key_attr) if name
    }
    try:
        hash_key, range_key = backend.get_keys_value(table, key)
        table.get_item(hash_key, range_key)
    except Exception:  # a malformed key: moto refuses the transaction before writing; nothing to back up
        return None
    return table, hash_key, range_key


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    backup = []
    for action in transact_items[:100]:  # moto refuses more, before writing anything
        op = next(iter(action.values()), None)
        found = _target(self, op) if isinstance(op, dict) else None
        if found is not None:
            table, hash_key, range_key = found
            backup.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        _transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(backup):
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
            elif item is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
        raise


def query(self: Table, *args: Any, **kwargs: Any) -> Any:
    arguments = _query_signature.bind(self, *args, **kwargs).arguments
    hash_key = arguments.get("hash_key")
    items: list[Item]
    if arguments.get("index_name") or hash_key is None:
        # An index query filters every item and sorts what it keeps by the index's key: the
        # table's own order, which costs more than the rest, does not matter to it.
        items = [item for partition in self.items.values() for item in _partition_items(self, partition)]
    else:
        items = sorted(_partition_items(self, self.items.get(hash_key)), key=_range_key)
    instance: Any = self
    instance.all_items = lambda: items  # for this query only (moto serves one request at a time here)
    try:
        return _query(self, *args, **kwargs)
    finally:
        del instance.all_items


def _range_key(item: Item) -> Any:
    return item.range_key


def _partition_items(table: Table, partition: Any) -> list[Item]:
    if partition is None:
        return []
    return list(partition.values()) if table.range_key_attr else [partition]


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Both changes, in this process's moto, until the block ends."""
    originals = (dynamodb_models.copy, DynamoDBBackend.transact_write_items, Table.query)  # type: ignore[attr-defined]
    dynamodb_models.copy = SimpleNamespace(deepcopy=_deepcopy, copy=copy.copy)  # type: ignore[attr-defined,assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        dynamodb_models.copy, DynamoDBBackend.transact_write_items, Table.query = originals  # type: ignore[attr-defined,method-assign]
