"""Retrying a card's verification (DESIGN §6): a card left waiting for 3-D Secure (the customer
closed the window, the challenge timed out, its hold was released meanwhile) or whose
authentication failed gets a new pre-authorization hold, placed as when the card was added, and
the customer may authenticate again (202 with the new client secret).

The card's previous hold is released first, so a late answer to the old challenge changes
nothing and a card never holds money twice. A decline (402) leaves the card unverified and
marks a card that was waiting as failed. The new hold's id derives from the card and the
request's Idempotency-Key, so a retried request resumes its own hold."""

from __future__ import annotations

import dataclasses

from account_billing.activity.records import ActivityKind
from account_billing.billing.cards.errors import CardAlreadyVerified, PaymentMethodNotFound
from account_billing.billing.cards.guard import CardGuard, CardLimits
from account_billing.billing.cards.records import Card, CardVerification
from account_billing.billing.cards.service import AddOutcome, added_outcome, resumed_authorization
from account_billing.billing.context import BillingContext
from account_billing.billing.errors import CardDeclined, PaymentProviderUnavailable
from account_billing.billing.holds.placement import HoldPlacement
from account_billing.billing.holds.records import Hold, HoldStatus, hold_id_for_verification
from account_billing.billing.holds.release import HoldReleaser
from account_billing.billing.plans import hold_plan
from account_billing.billing.stripe.results import Authorization
from account_billing.billing.tasks import sync_default_task
from account_billing.core.errors import ConcurrentUpdate
from account_billing.core.identity import Caller
from account_billing.core.observability import metrics
from account_billing.core.table import TransactItem

# The Stripe requests a retry makes while the caller waits: cancel the previous hold, confirm the new.
REVERIFY_REQUESTS = 2


class CardReverification:
    def __init__(self, context: BillingContext) -> None:
        self.accounts = context.accounts
        self.cards = context.cards
        self.holds = context.holds
        self.gateway = context.gateway
        self.placement = HoldPlacement(context)
        self.releaser = HoldReleaser(context.holds, context.gateway, context.clock)
        self.context = context
        self.activity = context.activity
        self.guard = CardGuard(
            context.table, context.cards, context.holds, CardLimits.from_settings(context.settings), context.clock
        )

    def retry(self, caller: Caller, payment_method_id: str, request_key: str) -> AddOutcome:
        """Verify the card again with a new hold: 201 (verified), 202 (3-D Secure again)."""
        account = self.accounts.require_active(caller.sub, consistent=True)
        card = self.cards.get(caller.sub, payment_method_id)
        if card is None:
            raise PaymentMethodNotFound("No such payment method.")
        hold_id = hold_id_for_verification(caller.sub, payment_method_id, request_key)
        existing = self.holds.get(caller.sub, hold_id)
        if existing is not None and existing.status != HoldStatus.AUTHORIZING:
            return added_outcome(card, existing)  # this request placed it already
        if card.verified:
            raise CardAlreadyVerified("The card is verified; there is nothing to retry.")
        make_default = not account.default_payment_method
        if existing is not None:
            return self._place(card, existing, make_default=make_default, recorded=True)
        # A retry is a new authorization on the card: the card-testing defences count it, and
        # its Stripe requests come out of the shared budget, before Stripe is called.
        self.guard.admit(caller.sub)
        self.context.budget.take(REVERIFY_REQUESTS)
        self._release_previous(card)
        hold = self.placement.new_hold(
            sub=caller.sub,
            hold_id=hold_id,
            plan=hold_plan(account.plan),
            customer_id=card.customer_id,
            payment_method_id=payment_method_id,
            requested_payment_method=payment_method_id,
            fingerprint=card.fingerprint,
        )
        try:
            outcome = self._place(card, hold, make_default=make_default)
        except CardDeclined as declined:
            self.activity.record(
                caller,
                ActivityKind.CARD_DECLINED,
                hold.hold_id,
                payment_method=card.payment_method_id,
                brand=card.brand,
                last4=card.last4,
                decline_code=declined.extensions.get("decline_code"),
            )
            raise
        self.activity.record(
            caller,
            ActivityKind.HOLD_PLACED,
            hold.hold_id,
            payment_method=card.payment_method_id,
            hold=hold.hold_id,
            amount=hold.amount,
            currency=hold.currency,
        )
        if outcome.status == 201:
            self.activity.record(
                caller, ActivityKind.CARD_VERIFIED, card.payment_method_id, payment_method=card.payment_method_id
            )
        return outcome

    def _release_previous(self, card: Card) -> None:
        """Release the card's current hold now (its 3-D Secure challenge goes with it)."""
        previous = self.holds.get(card.sub, card.hold_id) if card.hold_id else None
        if previous is None or previous.status == HoldStatus.RELEASED:
            return
        report = self.releaser.release(card.sub, previous.hold_id)
        if report.result == "failed":
            raise PaymentProviderUnavailable("The card's previous hold could not be released; retry later.")
        if report.result == "skipped":
            current = self.holds.get(card.sub, previous.hold_id)
            if current is not None and current.status != HoldStatus.RELEASED:
                raise ConcurrentUpdate("The card's previous hold is being released right now; retry.")

    def _place(self, card: Card, hold: Hold, *, make_default: bool, recorded: bool = False) -> AddOutcome:
        authorization = resumed_authorization(self.gateway, hold) if recorded else None

        def store(settled: Hold, settle: TransactItem, answer: Authorization) -> AddOutcome:
            verified = answer.status == "authorized"
            verification = CardVerification.VERIFIED if verified else CardVerification.REQUIRES_ACTION
            became_default = self.cards.reverify(
                card, hold.hold_id, settle, verification, make_default=verified and make_default
            )
            if became_default:
                self._tell_stripe_default(card)
            updated = dataclasses.replace(card, verification=verification, hold_id=hold.hold_id, default=became_default)
            return added_outcome(updated, settled, answer.client_secret)

        try:
            outcome = self.placement.place(
                hold, store, new_card=False, may_authenticate=True, recorded=recorded, authorization=authorization
            )
        except CardDeclined:
            self.cards.mark_verification_failed(card.sub, card.payment_method_id)
            self.guard.declined(card.sub)
            metrics.add_metric(name="CardDeclined", unit="Count", value=1)
            raise
        metrics.add_metric(
            name="CardVerified" if outcome.status == 201 else "CardNeedsAuthentication", unit="Count", value=1
        )
        return outcome

    def _tell_stripe_default(self, card: Card) -> None:
        """Stripe's default card follows the account's, in the background (`billing.tasks`)."""
        self.context.tasks.later(sync_default_task(card.sub))
