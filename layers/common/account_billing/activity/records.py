"""An activity entry as stored: `ACCOUNT#<sub>` / `ACTIVITY#<time>#<id>` (DESIGN §4)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from account_billing.core import keys, records
from account_billing.core.origin import Actor, Origin

ACTIVITY_PREFIX = "ACTIVITY#"


class ActivityKind(StrEnum):
    ACCOUNT_CREATED = "account.created"
    PROFILE_UPDATED = "profile.updated"
    USER_ID_CHANGED = "user_id.changed"
    VISIBILITY_CHANGED = "visibility.changed"
    DELETION_STARTED = "account.deletion_started"
    EMAIL_ADDED = "email.added"
    EMAIL_VERIFIED = "email.verified"
    PRIMARY_EMAIL_CHANGED = "email.primary_changed"
    EMAIL_REMOVED = "email.removed"
    AVATAR_PUBLISHED = "avatar.published"
    AVATAR_REJECTED = "avatar.rejected"
    AVATAR_REMOVED = "avatar.removed"
    CARD_ADDED = "card.added"
    CARD_VERIFIED = "card.verified"
    CARD_DECLINED = "card.declined"
    CARD_REMOVED = "card.removed"
    DEFAULT_CARD_CHANGED = "card.default_changed"
    HOLD_PLACED = "hold.placed"
    HOLD_RELEASED = "hold.released"
    PLAN_CHANGED = "plan.changed"
    SPENDING_LIMIT_REQUESTED = "spending.limit_requested"
    EXPORT_REQUESTED = "export.requested"


# What an entry may tell about a change, and nothing else: no token, no secret, of a card only
# its brand and last 4 digits (DESIGN: no card data beyond them ever enters the log).
DETAIL_NAMES = frozenset(
    {
        "user_id",
        "previous_user_id",
        "fields",
        "visibility",
        "address",
        "previous_address",
        "brand",
        "last4",
        "decline_code",
        "payment_method",
        "hold",
        "amount",
        "currency",
        "outcome",
        "plan",
        "previous_plan",
        "reason",
        "export",
    }
)
MAX_DETAIL_LENGTH = 320


def entry_id(operation: str, kind: ActivityKind, subject: str) -> str:
    """The id of the entry `operation` makes of `kind` about `subject`: the same on every
    delivery of the operation, so a duplicate delivery writes the same item, not another one."""
    return hashlib.sha256(f"{operation}\x1f{kind}\x1f{subject}".encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    sub: str
    at: str
    entry_id: str
    kind: ActivityKind
    actor: Actor
    details: Mapping[str, str] = field(default_factory=dict)
    source_ip: str | None = None
    user_agent: str | None = None
    expires_at: int | None = None  # DynamoDB's TTL: the end of the retention

    @classmethod
    def of(
        cls, sub: str, kind: ActivityKind, origin: Origin, *, expires_at: int, subject: str, details: Mapping[str, Any]
    ) -> ActivityEntry:
        unknown = set(details) - DETAIL_NAMES
        if unknown:
            raise ValueError(f"not an activity detail: {sorted(unknown)}")
        user = origin.actor == Actor.USER
        return cls(
            sub=sub,
            at=origin.at,
            entry_id=entry_id(origin.operation, kind, subject),
            kind=kind,
            actor=origin.actor,
            details={k: str(v)[:MAX_DETAIL_LENGTH] for k, v in details.items() if v is not None},
            source_ip=origin.source_ip if user else None,
            user_agent=origin.user_agent if user else None,
            expires_at=expires_at,
        )

    @property
    def key(self) -> keys.Key:
        return entry_key(self.sub, self.at, self.entry_id)

    def to_item(self) -> dict[str, Any]:
        return records.to_item(self, self.key, "activity")

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ActivityEntry:
        return records.from_item(cls, item, details=dict(item.get("details") or {}))


def entry_key(sub: str, at: str, entry: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"{ACTIVITY_PREFIX}{at}#{entry}"}
