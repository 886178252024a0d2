"""Spending as stored (DESIGN §4).

- A month's spend: `ACCOUNT#<sub>` / `SPEND#<month>` (the month's header: when the limit was
  reached; from before the spend was sharded, also a part of the spend) and up to `SPEND_SHARDS`
  parts `SPEND#<month>#<nn>`. A batch of usage adds its amount to one part chosen at random, so
  concurrent batches of a busy account rarely write the same item (transactions on one item
  conflict); the spend is the sum of the parts, read in one Query.
- The marker of each usage charge counted: `USAGE#<digest>` / `USAGE`, outside the account's
  partition (a busy account's markers spread over the whole table, and deleting an account never
  has to find them), holding nothing but its expiry: DynamoDB's TTL removes it once no delivery
  of the charge can come any more.
- The requests for a higher limit: `ACCOUNT#<sub>` / `LIMIT_REQUEST#<created>#<id>`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from account_billing.core import keys
from account_billing.core.records import from_item, to_item

LIMIT_REQUEST_PREFIX = "LIMIT_REQUEST#"
SPEND_PREFIX = "SPEND#"
# A busy account's batches land on one of these parts at random (bench/capacity.py models the
# conflicts on one part at the busiest account's rate).
SPEND_SHARDS = 16
USAGE_MARKER_PREFIX = "USAGE#"


# The month's header `SPEND#<month>` and its parts `SPEND#<month>#<nn>`; nothing else of the month.
_SPEND_SK = re.compile(r"SPEND#[^#]+(#\d+)?")


def spend_key(sub: str, month: str) -> keys.Key:
    """The month's header (and, for spend recorded before the parts, a part itself)."""
    return {"PK": keys.account_pk(sub), "SK": f"{SPEND_PREFIX}{month}"}


def spend_part_key(sub: str, month: str, part: int) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"{SPEND_PREFIX}{month}#{part:02d}"}


def month_prefix(month: str) -> str:
    """The SK prefix of a month's header and parts."""
    return f"{SPEND_PREFIX}{month}"


def usage_marker_key(sub: str, source: str, usage_id: str) -> keys.Key:
    """The marker of one usage charge: its presence makes another delivery count nothing. A
    digest of the account, the producer and its id: spread evenly, and it reveals none of them."""
    digest = hashlib.sha256("\x00".join((sub, source, usage_id)).encode()).hexdigest()[:40]
    return {"PK": f"{USAGE_MARKER_PREFIX}{digest}", "SK": "USAGE"}


@dataclass(frozen=True, slots=True)
class Spend:
    """What an account spent in one calendar month (UTC), and when it reached its limit."""

    spent_cents: int = 0
    limit_reached_at: str | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> Spend:
        """The month's spend from one item (nothing spent yet: no item)."""
        return cls.from_items([item] if item else [])

    @classmethod
    def from_items(cls, items: Iterable[Mapping[str, Any]]) -> Spend:
        """The month's spend from its header and parts: the sum of their amounts."""
        spent, reached = 0, None
        for item in items:
            if not _SPEND_SK.fullmatch(str(item.get("SK", ""))):
                continue  # another item of the month (a spending alert's mark)
            spent += int(item.get("spent_cents", 0))
            reached = reached or item.get("limit_reached_at")
        return cls(spent_cents=spent, limit_reached_at=reached)


class LimitRequestStatus(StrEnum):
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class LimitRequest:
    """A request for a higher monthly spending limit."""

    sub: str
    id: str
    amount_cents: int
    reason: str
    status: LimitRequestStatus
    created_at: str

    @property
    def sort_key(self) -> str:
        return f"{LIMIT_REQUEST_PREFIX}{self.created_at}#{self.id}"

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> LimitRequest:
        return from_item(cls, item, sub=keys.sub_of(item["PK"]))

    def to_item(self) -> dict[str, Any]:
        key: keys.Key = {"PK": keys.account_pk(self.sub), "SK": self.sort_key}
        return to_item(self, key, "limit_request", leave_out=("sub",))
