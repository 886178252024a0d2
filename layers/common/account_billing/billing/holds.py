"""Pre-authorization holds: what a new one looks like, and how one is released exactly once.

Releasing: claim the hold (held → releasing, a conditional write that only one releaser wins),
ask Stripe to cancel its PaymentIntent (refund it if it was captured; record it if Stripe had
already cancelled it), then mark it released (releasing → released, conditioned on the claim).
A releaser that fails midway leaves the hold `releasing` with a short lease; once the lease runs
out the next run takes it again. A hold whose Stripe outcome was never recorded (a crash between
Stripe's answer and the write) is found at Stripe by its id before anything else happens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConcurrentUpdate, PaymentProviderUnavailable
from ..observability import logger, metrics
from .plans import Plan
from .records import (
    AUTHORIZING,
    DUE_PARTITION,
    RELEASED,
    RELEASING,
    HoldStore,
    due_sort_key,
    fingerprint_key,
    hold_key,
    timestamp,
)

if TYPE_CHECKING:
    from .gateway import StripeGateway

# How long a releaser keeps its claim: longer than any release can take (a few Stripe calls
# with their retries), short enough that a crashed releaser's hold is taken again soon.
LEASE = timedelta(minutes=5)
# Payment intents are looked up from a little before the hold was recorded (clock skew).
LOOKUP_SLACK = timedelta(minutes=10)


def hold_id_for(sub: str, request_key: str) -> str:
    """A hold's id, derived from the caller and the request's Idempotency-Key: a retried
    request finds its own hold (and, through it, its own PaymentIntent) again."""
    digest = hashlib.sha256(f"{sub}\x00{request_key}".encode()).hexdigest()
    return f"hold_{digest[:32]}"


def new_hold(
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
) -> dict[str, Any]:
    """A hold as recorded before Stripe is called: in the due index from the start, so even a
    crash right after Stripe's answer leaves it for the sweeper to release."""
    release_at = timestamp(now + release_delay)
    return {
        **hold_key(sub, hold_id),
        "entity": "hold",
        "sub": sub,
        "hold_id": hold_id,
        "status": AUTHORIZING,
        "plan": plan.key,
        "amount": plan.hold_amount,
        "currency": currency,
        "customer_id": customer_id,
        "payment_method_id": payment_method_id,
        "requested_payment_method": requested_payment_method,
        "fingerprint": fingerprint,
        "created_at": timestamp(now),
        "release_at": release_at,
        "GSI1PK": DUE_PARTITION,
        "GSI1SK": due_sort_key(release_at, hold_id),
    }


def fingerprint_marker(sub: str, fingerprint: str, payment_method_id: str) -> dict[str, Any]:
    return {**fingerprint_key(sub, fingerprint), "entity": "card-fingerprint", "payment_method_id": payment_method_id}


Result = Literal["released", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class ReleaseReport:
    result: Result
    outcome: str | None = None  # canceled, refunded, expired, not_authorized


class HoldReleaser:
    def __init__(
        self,
        holds: HoldStore,
        gateway: StripeGateway,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.holds = holds
        self.gateway = gateway
        self.clock = clock or (lambda: datetime.now(UTC))

    def release(self, sub: str, hold_id: str) -> ReleaseReport:
        """Release one hold, whatever its release time (the schedule fires at it; deletion
        releases early). Safe to call any number of times, from anywhere, concurrently."""
        report = self._release(sub, hold_id)
        if report.result == "released":
            metrics.add_metric(name="HoldReleased", unit="Count", value=1)
        elif report.result == "failed":
            metrics.add_metric(name="HoldReleaseFailed", unit="Count", value=1)
        return report

    def release_due(self, hold: Mapping[str, Any]) -> ReleaseReport:
        """Release a hold the sweeper found due (the claim checks it again). Runs on the
        sweeper's threads, which count the results (Powertools Metrics is not thread-safe)."""
        return self._release(hold["sub"], hold["hold_id"])

    def _release(self, sub: str, hold_id: str) -> ReleaseReport:
        now = self.clock()
        claimed = self.holds.claim(sub, hold_id, now, now + LEASE)
        if claimed is None:
            return ReleaseReport("skipped")
        return self._release_claimed(claimed)

    def _release_claimed(self, hold: dict[str, Any]) -> ReleaseReport:
        try:
            payment_intent_id = hold.get("payment_intent_id")
            if not payment_intent_id:
                payment_intent_id = self._find_payment_intent(hold)
            if payment_intent_id is None:
                outcome = "not_authorized"
            else:
                outcome = self.gateway.release(
                    payment_intent_id, hold_id=hold["hold_id"], attempt=int(hold["attempts"])
                ).outcome
        except PaymentProviderUnavailable:
            self.holds.let_go(hold, self.clock())
            logger.warning("Hold release failed; it will be retried", extra={"hold_id": hold["hold_id"]})
            return ReleaseReport("failed")
        released_at = self.clock()
        if not self.holds.finish(hold, outcome, released_at, payment_intent_id):
            # Our lease ran out and another releaser took over; Stripe's side is done either way.
            logger.warning("Hold claim lost before it was marked released", extra={"hold_id": hold["hold_id"]})
            return ReleaseReport("skipped")
        if not hold.get("payment_intent_id"):
            # Its add-card request never recorded an outcome, so no card came of it.
            self.holds.free_fingerprint(hold)
        logger.info("Hold released", extra={"hold_id": hold["hold_id"], "outcome": outcome})
        return ReleaseReport("released", outcome)

    def _find_payment_intent(self, hold: Mapping[str, Any]) -> str | None:
        """The PaymentIntent of a hold recorded as authorizing: Stripe may have created it even
        though its answer never got written down."""
        created = datetime.fromisoformat(hold["created_at"].replace("Z", "+00:00"))
        since = int((created - LOOKUP_SLACK).timestamp())
        found = self.gateway.find_authorization(hold["customer_id"], hold["hold_id"], since)
        return found.payment_intent_id if found else None

    def release_all_of(self, sub: str) -> None:
        """Release every open hold of an account now (account deletion). A hold that another
        releaser holds at this moment makes the deletion retry later rather than forget it."""
        for hold in self.holds.of_account(sub):
            if hold["status"] == RELEASED:
                continue
            report = self.release(sub, hold["hold_id"])
            if report.result == "failed":
                raise PaymentProviderUnavailable("A card hold could not be released; retry the deletion.")
            if report.result == "skipped" and (self.holds.get(sub, hold["hold_id"]) or {}).get("status") == RELEASING:
                raise ConcurrentUpdate("A card hold is being released right now; retry the deletion.")
