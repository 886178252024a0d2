"""Pre-authorization holds as stored (DESIGN §4): `ACCOUNT#<sub>` / `HOLD#<hold id>`.

A hold not yet released carries `GSI1PK`/`GSI1SK`, which puts it in the sparse `HoldsDue` index
ordered by release time; releasing it removes them, so the index holds exactly the holds still
open and the sweeper reads only those that are due.

The index is spread over `DUE_SHARDS` partitions (`HOLD#<n>`, n from the hold's id), so no index
partition takes more than a share of the holds' writes; holds recorded before the sharding carry
the single partition `HOLD`, which the sweeper reads too until it is empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from account_billing.billing.plans import Plan
from account_billing.core import keys
from account_billing.core.clock import timestamp_to_second
from account_billing.core.records import from_item, to_item

DUE_INDEX = "HoldsDue"
# Every open hold is written about four times in the index over its life (recorded, settled,
# claimed, released); one index partition takes about 1,000 writes a second, so 16 partitions
# carry some 4,000 holds a second (bench/capacity.py sets this against the load).
DUE_SHARDS = 16
LEGACY_DUE_PARTITION = "HOLD"  # the one partition of holds recorded before the index was sharded
HOLD_PREFIX = "HOLD#"


class HoldStatus(StrEnum):
    AUTHORIZING = "authorizing"  # recorded, Stripe not answered yet (or the answer was lost)
    REQUIRES_ACTION = "requires_action"  # waiting for 3-D Secure
    HELD = "held"  # authorized: the amount is reserved on the card
    RELEASING = "releasing"  # claimed by a releaser
    RELEASED = "released"  # done; its outcome says how


class HoldOutcome(StrEnum):
    """How a released hold ended."""

    CANCELED = "canceled"  # the authorization was voided
    REFUNDED = "refunded"  # it had been captured and was refunded in full
    EXPIRED = "expired"  # Stripe had already cancelled it
    NOT_AUTHORIZED = "not_authorized"  # nothing was ever held


# What only releasing a hold writes.
_RELEASE_STATE = ("payment_intent_id", "attempts", "lease_until", "outcome", "released_at")


def hold_key(sub: str, hold_id: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"{HOLD_PREFIX}{hold_id}"}


def due_partition(hold_id: str) -> str:
    """The index partition of a hold: one of `DUE_SHARDS`, from its id (stable, evenly spread)."""
    return f"{LEGACY_DUE_PARTITION}#{int(_digest(hold_id)[:8], 16) % DUE_SHARDS}"


def due_partitions() -> list[str]:
    """Every partition of the due index the sweeper reads: the shards, and the legacy one."""
    return [f"{LEGACY_DUE_PARTITION}#{n}" for n in range(DUE_SHARDS)] + [LEGACY_DUE_PARTITION]


def due_sort_key(release_at: str, hold_id: str) -> str:
    return f"{release_at}#{hold_id}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def hold_id_for_card(sub: str, request_key: str) -> str:
    """The hold of an add-card request, from the caller and the request's Idempotency-Key: a
    retried request finds its own hold (and, through it, its own PaymentIntent) again."""
    return f"hold_{_digest(sub, request_key)[:32]}"


def hold_id_for_verification(sub: str, payment_method_id: str, request_key: str) -> str:
    """The hold a retried card verification places, from the card and the request's
    Idempotency-Key: a retried request finds the hold it placed."""
    return f"hold_{_digest(sub, 'verify', payment_method_id, request_key)[:32]}"


def hold_id_for_plan_change(sub: str, change_key: str) -> str:
    """The hold a plan change places, from the change's own key (which derives from the
    request's Idempotency-Key): a retried change finds the hold it placed."""
    return f"hold_{_digest(sub, 'plan', change_key)[:32]}"


@dataclass(frozen=True, slots=True)
class Hold:
    sub: str
    hold_id: str
    status: HoldStatus
    amount: int
    currency: str
    customer_id: str
    payment_method_id: str
    created_at: str
    release_at: str
    plan: str | None = None
    requested_payment_method: str | None = None
    fingerprint: str | None = None
    payment_intent_id: str | None = None
    attempts: int = 0  # release attempts: each claim counts one
    lease_until: str | None = None
    outcome: HoldOutcome | None = None
    released_at: str | None = None

    @property
    def key(self) -> keys.Key:
        return hold_key(self.sub, self.hold_id)

    @classmethod
    def new(
        cls,
        *,
        sub: str,
        hold_id: str,
        plan: Plan,
        currency: str,
        customer_id: str,
        payment_method_id: str,
        requested_payment_method: str,
        fingerprint: str,
        now: datetime,
        release_delay: timedelta,
    ) -> Hold:
        """A hold as recorded before Stripe is called."""
        return cls(
            sub=sub,
            hold_id=hold_id,
            status=HoldStatus.AUTHORIZING,
            amount=int(plan.hold_amount or 0),
            currency=currency,
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            created_at=timestamp_to_second(now),
            release_at=timestamp_to_second(now + release_delay),
            plan=plan.key,
            requested_payment_method=requested_payment_method,
            fingerprint=fingerprint,
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Hold:
        return from_item(cls, item)

    def to_item(self) -> dict[str, Any]:
        """The item of a new hold: in the due index from the start, so even a crash right after
        Stripe's answer leaves it for the sweeper to release."""
        return {
            **to_item(self, self.key, "hold", leave_out=_RELEASE_STATE),
            "GSI1PK": due_partition(self.hold_id),
            "GSI1SK": due_sort_key(self.release_at, self.hold_id),
        }
