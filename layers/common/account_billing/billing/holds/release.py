"""Releasing a hold exactly once.

Claim the hold (held → releasing, a conditional write that only one releaser wins), ask Stripe to
cancel its PaymentIntent (refund it if it was captured; record it if Stripe had already cancelled
it), then mark it released (releasing → released, conditioned on the claim). A releaser that
fails midway leaves the hold `releasing` with a short lease; once the lease runs out the next run
takes it again. A hold whose Stripe outcome was never recorded (a crash between Stripe's answer
and the write) is found at Stripe by its id before anything else happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from account_billing.activity.records import ActivityKind
from account_billing.activity.service import ActivityLog
from account_billing.billing.errors import PaymentProviderUnavailable
from account_billing.billing.holds.records import Hold, HoldOutcome, HoldStatus
from account_billing.billing.holds.store import HoldStore
from account_billing.core.clock import Clock, epoch_seconds, parse_timestamp, timestamp, utc_now
from account_billing.core.errors import ConcurrentUpdate
from account_billing.core.observability import logger, metrics
from account_billing.core.origin import Actor, Origin

if TYPE_CHECKING:
    from account_billing.billing.stripe.gateway import StripeGateway

# How long a releaser keeps its claim: longer than any release can take (a few Stripe calls
# with their retries), short enough that a crashed releaser's hold is taken again soon.
LEASE = timedelta(minutes=5)
# Payment intents are looked up from a little before the hold was recorded (clock skew).
LOOKUP_SLACK = timedelta(minutes=10)

Result = Literal["released", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class ReleaseReport:
    result: Result
    outcome: HoldOutcome | None = None


class HoldReleaser:
    def __init__(
        self, holds: HoldStore, gateway: StripeGateway, clock: Clock = utc_now, activity: ActivityLog | None = None
    ) -> None:
        self.holds = holds
        self.gateway = gateway
        self.clock = clock
        self.activity = activity or ActivityLog.of(holds.table, clock)

    def release(self, sub: str, hold_id: str) -> ReleaseReport:
        """Release one hold, whatever its release time (the schedule fires at it; deletion
        releases early). Safe to call any number of times, from anywhere, concurrently."""
        report = self._release(sub, hold_id)
        if report.result == "released":
            metrics.add_metric(name="HoldReleased", unit="Count", value=1)
        elif report.result == "failed":
            metrics.add_metric(name="HoldReleaseFailed", unit="Count", value=1)
        return report

    def release_due(self, sub: str, hold_id: str) -> ReleaseReport:
        """`release` for the background worker's threads, which count the results themselves
        (Powertools Metrics is not thread-safe)."""
        return self._release(sub, hold_id)

    def _release(self, sub: str, hold_id: str) -> ReleaseReport:
        now = self.clock()
        claimed = self.holds.claim(sub, hold_id, now, now + LEASE)
        if claimed is None:
            return ReleaseReport("skipped")
        return self._release_claimed(claimed)

    def _release_claimed(self, hold: Hold) -> ReleaseReport:
        try:
            payment_intent_id = hold.payment_intent_id or self._find_payment_intent(hold)
            if payment_intent_id is None:
                outcome = HoldOutcome.NOT_AUTHORIZED
            else:
                released = self.gateway.holds.release(payment_intent_id, hold_id=hold.hold_id, attempt=hold.attempts)
                outcome = HoldOutcome(released.outcome)
        except PaymentProviderUnavailable:
            self.holds.let_go(hold, self.clock())
            logger.warning("Hold release failed; it will be retried", extra={"hold_id": hold.hold_id})
            return ReleaseReport("failed")
        if not self.holds.finish(hold, outcome, self.clock(), payment_intent_id):
            # Our lease ran out and another releaser took over; Stripe's side is done either way.
            logger.warning("Hold claim lost before it was marked released", extra={"hold_id": hold.hold_id})
            return ReleaseReport("skipped")
        if not hold.payment_intent_id:
            # Its add-card request never recorded an outcome, so no card came of it.
            self.holds.free_fingerprint(hold)
        logger.info("Hold released", extra={"hold_id": hold.hold_id, "outcome": outcome.value})
        self.activity.record(
            hold.sub,
            ActivityKind.HOLD_RELEASED,
            hold.hold_id,
            origin=self._origin(hold),
            hold=hold.hold_id,
            amount=hold.amount,
            currency=hold.currency,
            outcome=outcome.value,
        )
        return ReleaseReport("released", outcome)

    def _origin(self, hold: Hold) -> Origin:
        """Releases run on schedules (a hold's own, the sweeper's, or one a removal or deletion
        brings forward); only one releaser finishes a hold, so its entry is written once."""
        return Origin(actor=Actor.SCHEDULE, operation=f"hold-release:{hold.hold_id}", at=timestamp(self.clock()))

    def _find_payment_intent(self, hold: Hold) -> str | None:
        """The PaymentIntent of a hold recorded as authorizing: Stripe may have created it even
        though its answer never got written down."""
        since = epoch_seconds(parse_timestamp(hold.created_at) - LOOKUP_SLACK)
        found = self.gateway.holds.find_authorization(hold.customer_id, hold.hold_id, since)
        return found.payment_intent_id if found else None

    def release_all_of(self, sub: str) -> None:
        """Release every open hold of an account now (account deletion). A hold that another
        releaser holds at this moment makes the deletion retry later rather than forget it."""
        for hold in self.holds.of_account(sub):
            if hold.status == HoldStatus.RELEASED:
                continue
            report = self.release(sub, hold.hold_id)
            if report.result == "failed":
                raise PaymentProviderUnavailable("A card hold could not be released; retry the deletion.")
            if report.result == "skipped":
                current = self.holds.get(sub, hold.hold_id)
                if current is not None and current.status == HoldStatus.RELEASING:
                    raise ConcurrentUpdate("A card hold is being released right now; retry the deletion.")

    def release_card_holds(self, sub: str, payment_method_id: str) -> None:
        """Release now every open hold on a card that was removed (the one that verified it, and
        any a plan change placed on it): removing a card and adding it again never stacks holds.
        A release that fails now is left to its schedule and the sweeper (it stays open)."""
        for hold in self.holds.of_account(sub):
            if hold.payment_method_id != payment_method_id or hold.status == HoldStatus.RELEASED:
                continue
            if self.release(sub, hold.hold_id).result == "failed":
                logger.warning("A removed card's hold was not released yet", extra={"hold_id": hold.hold_id})
