"""Spending alerts as stored, beside the account's spend: its thresholds (`SPEND_ALERTS`,
percentages of the month's limit) and one mark per threshold crossed in a month
(`SPEND#<month>#ALERT#<percent>`, with a TTL), whose conditional put makes each alert happen
once. The marks sort right after the month's spend (`SPEND#<month>`), so one Query reads the
month's spend and its marks together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from account_billing.core import keys

SETTINGS_SK = "SPEND_ALERTS"
DEFAULT_THRESHOLDS = (50, 80, 100)
MARK_DAYS = 400  # a month's marks are kept for a year and a bit, then expire


def settings_key(sub: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": SETTINGS_SK}


def mark_key(sub: str, month: str, percent: int) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"{marks_prefix(month)}{percent:03d}"}


def month_prefix(month: str) -> str:
    """What the month's spend and its marks share at the start of their sort keys."""
    return f"SPEND#{month}"


def marks_prefix(month: str) -> str:
    return f"SPEND#{month}#ALERT#"


@dataclass(frozen=True, slots=True)
class AlertSettings:
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    version: int = 0

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> AlertSettings:
        if not item:
            return cls()
        return cls(thresholds=tuple(int(t) for t in item.get("thresholds") or ()), version=int(item["version"]))

    def to_item(self, sub: str) -> dict[str, Any]:
        return {
            **settings_key(sub),
            "entity": "spending-alerts",
            "thresholds": list(self.thresholds),
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class AlertMark:
    """A threshold crossed in a month: when, and the spend and limit then."""

    percent: int
    crossed_at: str
    spent_cents: int
    limit_cents: int

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> AlertMark:
        return cls(
            percent=int(item["percent"]),
            crossed_at=str(item["crossed_at"]),
            spent_cents=int(item["spent_cents"]),
            limit_cents=int(item["limit_cents"]),
        )

    def to_item(self, sub: str, month: str, expires_at: int) -> dict[str, Any]:
        return {
            **mark_key(sub, month, self.percent),
            "entity": "spending-alert",
            "percent": self.percent,
            "crossed_at": self.crossed_at,
            "spent_cents": self.spent_cents,
            "limit_cents": self.limit_cents,
            "expires_at": expires_at,
        }
