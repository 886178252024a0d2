"""Placing a hold: the one way the service puts money on hold on a card, used both by adding a
card (`cards.service`) and by moving to a plan whose pre-authorization is larger than the card's
hold (`subscriptions.service`). DESIGN §6.

1. The hold is recorded before Stripe is asked for any money (with the card's fingerprint
   claimed on the account when a new card is being added), in the due index from the start.
2. A PaymentIntent with manual capture is confirmed; its idempotency key is the hold's own id,
   so a retry never places a second hold. A decline forgets the hold (nothing is left behind).
3. The caller stores Stripe's answer together with the card the hold verifies, in one
   transaction (`CardStore.record_verified`, `CardStore.attach_hold`).
4. Its release is scheduled (the hourly sweeper releases it anyway if the schedule is lost).

A crash between 2 and 3 leaves the hold `authorizing`: a retry of the request resumes it (its id
derives from the request), and the sweeper releases it at its release time in any case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn

from account_billing.billing.cards.records import fingerprint_marker
from account_billing.billing.errors import CardDeclined, PaymentProviderUnavailable
from account_billing.billing.holds.records import Hold, HoldStatus
from account_billing.billing.plans import Plan
from account_billing.core.clock import parse_timestamp
from account_billing.core.observability import logger, metrics
from account_billing.core.table import TransactItem

if TYPE_CHECKING:
    from account_billing.billing.context import BillingContext
    from account_billing.billing.stripe.results import Authorization


class HoldPlacement:
    def __init__(self, context: BillingContext) -> None:
        self.context = context
        self.holds = context.holds

    def new_hold(
        self,
        *,
        sub: str,
        hold_id: str,
        plan: Plan,
        customer_id: str,
        payment_method_id: str,
        requested_payment_method: str,
        fingerprint: str,
    ) -> Hold:
        return Hold.new(
            sub=sub,
            hold_id=hold_id,
            plan=plan,
            currency=self.context.settings.currency,
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            requested_payment_method=requested_payment_method,
            fingerprint=fingerprint,
            now=self.context.clock(),
            release_delay=timedelta(minutes=self.context.settings.hold_release_delay_minutes),
        )

    def place[R](
        self,
        hold: Hold,
        store_outcome: Callable[[Hold, TransactItem, Authorization], R],
        *,
        new_card: bool,
        recorded: bool = False,
        authorization: Authorization | None = None,
        guard: TransactItem | None = None,
        may_authenticate: bool | None = None,
    ) -> R:
        """Place `hold` and return what `store_outcome(settled hold, its transaction action,
        Stripe's answer)` returns once it has stored the outcome with the card.

        `new_card`: the hold verifies a card being added: it claims the card's fingerprint on
        the account (`DuplicateCard`), frees it again on a decline, and may wait for 3-D Secure
        (the caller answers 202). Otherwise (a larger pre-authorization on the default card)
        a request for authentication cannot be met off the card-adding flow: the authorization
        is voided and the card counts as declined. `recorded`: a retry resuming a hold its first
        attempt recorded; `authorization`: Stripe's answer that attempt got but never stored.
        `guard`: an action recorded with the hold (the card guard's count, `cards.guard`).
        `may_authenticate` (default: `new_card`): the customer is at hand to answer 3-D Secure
        (adding a card, or retrying its verification). `CardDeclined` leaves nothing behind."""
        authenticate = new_card if may_authenticate is None else may_authenticate
        if not recorded:
            marker = fingerprint_marker(hold.sub, hold.fingerprint or "", hold.payment_method_id) if new_card else None
            self.holds.record(hold, marker, guard)
        if authorization is None:
            authorization = self._authorize(hold, new_card=new_card)
        if authorization.status != "authorized" and not (authenticate and authorization.status == "requires_action"):
            self._refuse(hold, authorization, new_card=authenticate)
        status = HoldStatus.HELD if authorization.status == "authorized" else HoldStatus.REQUIRES_ACTION
        settled = dataclasses.replace(hold, status=status, payment_intent_id=authorization.payment_intent_id)
        outcome = store_outcome(
            settled, self.holds.settle(hold, status, authorization.payment_intent_id), authorization
        )
        metrics.add_metric(name="HoldPlaced", unit="Count", value=1)
        self.context.scheduler.schedule(hold.sub, hold.hold_id, parse_timestamp(hold.release_at))
        return outcome

    def void(self, hold: Hold, authorization: Authorization) -> None:
        """Give back an authorization that cannot be kept (its hold was taken for release
        meanwhile, or it asks for an authentication no one can give now)."""
        self.context.gateway.holds.release(authorization.payment_intent_id, hold_id=hold.hold_id, attempt=0)

    def _authorize(self, hold: Hold, *, new_card: bool) -> Authorization:
        try:
            return self.context.gateway.holds.authorize(
                hold_id=hold.hold_id,
                account_key=hold.sub,
                customer_id=hold.customer_id,
                payment_method_id=hold.payment_method_id,
                amount=hold.amount,
                currency=hold.currency,
            )
        except CardDeclined:
            self.holds.discard(hold, with_fingerprint=new_card)
            raise

    def _refuse(self, hold: Hold, authorization: Authorization, *, new_card: bool) -> NoReturn:
        if new_card:
            # Not an answer a fresh confirmation gives; leave the hold for the sweeper.
            logger.error("Unexpected PaymentIntent state", extra={"status": authorization.status})
            raise PaymentProviderUnavailable("The card could not be verified; retry later.")
        self.void(hold, authorization)
        self.holds.discard(hold, with_fingerprint=False)
        raise CardDeclined(
            "The card asks for authentication for the new plan's pre-authorization; add it again.",
            decline_code="authentication_required",
            code="authentication_required",
        )
