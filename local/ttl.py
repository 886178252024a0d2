"""DynamoDB Time to Live, honored locally: moto stores a table's TTL setting but never deletes
anything. The sweeper deletes the items whose TTL attribute (seconds since the epoch) has passed
on the local clock, each on the condition that its attribute has not changed meanwhile (an item
whose attribute was removed or moved later stays), as the TTL process does. Items without the
attribute, or with a value that is not a number, are never deleted."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("local")


def ttl_tables(template: Mapping[str, Any], physical: Mapping[str, str]) -> dict[str, str]:
    """Physical table name → TTL attribute, for the template's tables with TTL enabled."""
    tables = {}
    for logical, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::DynamoDB::Table" or logical not in physical:
            continue
        spec = (resource.get("Properties") or {}).get("TimeToLiveSpecification") or {}
        if spec.get("Enabled") in (True, "true", "True") and isinstance(spec.get("AttributeName"), str):
            tables[physical[logical]] = spec["AttributeName"]
    return tables


@dataclass
class TtlSweeper:
    """Deletes what expired on the local clock. The functions write TTL attributes by the
    machine's time: an item's attribute counts from how far the local clock was ahead when the
    sweeper first saw it (`local.clock`), so moving the clock a month and then adding an address
    still leaves it three days."""

    dynamodb: Any  # a boto3 DynamoDB client on moto
    tables: dict[str, str]  # physical name → TTL attribute
    now: Callable[[], float]
    offset: Callable[[], float] = lambda: 0.0
    _keys: dict[str, list[str]] = field(default_factory=dict)
    # (table, key as JSON) → (the TTL attribute's value, the clock's offset when first seen)
    _seen: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _key_names(self, table: str) -> list[str]:
        if table not in self._keys:
            schema = self.dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
            self._keys[table] = [part["AttributeName"] for part in schema]
        return self._keys[table]

    def sweep(self) -> int:
        """Delete every expired item; how many went."""
        with self._lock:
            return sum(self._sweep(table, attribute) for table, attribute in self.tables.items())

    def _sweep(self, table: str, attribute: str) -> int:
        now, offset = self.now(), self.offset()
        keys = self._key_names(table)
        names = {"#ttl": attribute, **{f"#k{i}": name for i, name in enumerate(keys)}}
        live: set[str] = set()
        deleted = 0
        for page in self.dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="attribute_exists(#ttl)",
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
        ):
            for item in page["Items"]:
                value = item[attribute].get("N")
                if value is None:
                    continue  # not a number: DynamoDB's TTL ignores the item
                key = {name: item[name] for name in keys}
                identity = json.dumps(key, sort_keys=True)
                live.add(identity)
                seen = self._seen.get((table, identity))
                if seen is None or seen[0] != value:
                    seen = self._seen[(table, identity)] = (value, offset)
                if float(value) + seen[1] > now:
                    continue
                try:
                    self.dynamodb.delete_item(
                        TableName=table,
                        Key=key,
                        ConditionExpression="#ttl = :value",
                        ExpressionAttributeNames={"#ttl": attribute},
                        ExpressionAttributeValues={":value": {"N": value}},
                    )
                except self.dynamodb.exceptions.ConditionalCheckFailedException:
                    continue  # changed meanwhile: seen again next time
                live.discard(identity)
                deleted += 1
        for gone in [k for k in self._seen if k[0] == table and k[1] not in live]:
            del self._seen[gone]
        if deleted:
            log.info("TTL %s: %d expired item(s) deleted", table, deleted)
        return deleted
