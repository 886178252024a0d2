"""Spending as stored (DESIGN §4): a month's spend (`SPEND#<month>`), the marker of each usage
event counted (`USAGE#<source>#<id>`, with a TTL) and the requests for a higher limit
(`LIMIT_REQUEST#<created>#<id>`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from account_billing.core import keys
from account_billing.core.records import from_item, to_item

LIMIT_REQUEST_PREFIX = "LIMIT_REQUEST#"


def spend_key(sub: str, month: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"SPEND#{month}"}


def usage_key(sub: str, source: str, usage_id: str) -> keys.Key:
    """The marker of one usage event: its presence makes a redelivery count nothing."""
    return {"PK": keys.account_pk(sub), "SK": f"USAGE#{source}#{usage_id}"}


@dataclass(frozen=True, slots=True)
class Spend:
    """What an account spent in one calendar month (UTC), and when it reached its limit."""

    spent_cents: int = 0
    limit_reached_at: str | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> Spend:
        """The month's spend (nothing spent yet: no item)."""
        item = item or {}
        return cls(spent_cents=int(item.get("spent_cents", 0)), limit_reached_at=item.get("limit_reached_at"))


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
