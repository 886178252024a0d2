"""Cards: collecting one (a SetupIntent for Stripe.js), adding it with its pre-authorization hold,
listing, choosing the default, removing, and the 3-D Secure outcome of its hold. DESIGN §6.

Adding a card: the card is attached to the account's Stripe customer (Stripe's card check may
decline it), then its hold is placed (`holds.placement`: recorded with the card's fingerprint
claimed on the account, so the same card twice is 409, before Stripe is asked for any money),
and the outcome is stored with the card (the first verified card becomes the default). A decline
removes the hold and detaches the card: nothing is left behind. Each step is safe to run again
when a request is retried with its Idempotency-Key (the hold's id derives from it).

The Stripe requests a caller waits for are taken from the interactive share of Stripe's rate
limit first (`stripe.budget`: 429 with Retry-After when it is spent); detaching cards and telling
Stripe the default card are background work (`billing.tasks`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from account_billing.accounts.records import Account, require_active
from account_billing.activity.records import ActivityKind
from account_billing.billing.cards.errors import (
    CardLimitReached,
    CardNotVerified,
    CardsChanged,
    DuplicateCard,
    HoldPlanNotAllowed,
    PaymentMethodNotFound,
    TooManyOpenHolds,
)
from account_billing.billing.cards.guard import CardGuard, CardLimits
from account_billing.billing.cards.models import AddPaymentMethodRequest, CardAdded, PaymentMethodList, SetupIntentView
from account_billing.billing.cards.records import Card, CardVerification
from account_billing.billing.cards.store import Completion, HoldTaken
from account_billing.billing.cards.views import card_view, hold_view
from account_billing.billing.context import BillingContext
from account_billing.billing.errors import CardDeclined, IdempotencyKeyReused, PaymentProviderUnavailable
from account_billing.billing.holds.placement import HoldPlacement
from account_billing.billing.holds.records import Hold, HoldStatus, hold_id_for_card
from account_billing.billing.holds.release import HoldReleaser
from account_billing.billing.plans import Plan, hold_plan
from account_billing.billing.stripe.results import Authorization, CardDetails
from account_billing.billing.tasks import detach_task, sync_default_task
from account_billing.core.clock import epoch_seconds, parse_timestamp
from account_billing.core.identity import Caller
from account_billing.core.observability import logger, metrics
from account_billing.core.table import TransactItem

if TYPE_CHECKING:
    from account_billing.billing.stripe.gateway import StripeGateway  # the SDK loads when Stripe is called

# A resumed request looks for its PaymentIntent from a little before its hold was recorded.
LOOKUP_SLACK_SECONDS = 600
# Stripe requests a card addition makes while the caller waits: attach the card, and create and
# confirm its hold's PaymentIntent (plus the customer's creation, the first time). Detaching and
# the customer's default card are background work (`billing.tasks`).
ADD_CARD_REQUESTS = 2
# How often a new card's hold is recorded again when other additions keep racing it.
RESERVE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """What adding a card answered: 201 (verified) or 202 (3-D Secure needed)."""

    status: int
    body: CardAdded


def added_outcome(card: Card, hold: Hold, client_secret: str | None = None) -> AddOutcome:
    """What adding (or verifying again) a card answers: 201 once verified, else 202 with 3-D Secure's secret."""
    verified = card.verified
    return AddOutcome(
        201 if verified else 202,
        CardAdded(
            payment_method=card_view(card, hold),
            hold=hold_view(hold),
            client_secret=None if verified else client_secret,
            next_action=None if verified else "authenticate",
        ),
    )


def resumed_authorization(gateway: StripeGateway, hold: Hold) -> Authorization | None:
    """What Stripe answered a first attempt at `hold` that stopped before storing it."""
    since = epoch_seconds(parse_timestamp(hold.created_at)) - LOOKUP_SLACK_SECONDS
    found = gateway.holds.find_authorization(hold.customer_id, hold.hold_id, since)
    return found if found is not None and found.status in ("authorized", "requires_action") else None


class CardService:
    def __init__(self, context: BillingContext) -> None:
        self.accounts = context.accounts
        self.cards = context.cards
        self.holds = context.holds
        self.customers = context.customers
        self.gateway = context.gateway
        self.context = context
        self.placement = HoldPlacement(context)
        self.guard = CardGuard(
            context.table, context.cards, context.holds, CardLimits.from_settings(context.settings), context.clock
        )
        self.releaser = HoldReleaser(context.holds, context.gateway, context.clock)
        self.activity = context.activity

    # ------------------------------------------------------------------ collecting
    def setup_intent(self, caller: Caller) -> SetupIntentView:
        account = self.accounts.require_active(caller.sub, consistent=True)
        self.context.budget.take(1 if account.stripe_customer_id else 2)
        return SetupIntentView(client_secret=self.gateway.cards.setup_intent(self.customers.ensure(account)))

    # ------------------------------------------------------------------ adding
    def add(self, caller: Caller, request: AddPaymentMethodRequest, request_key: str) -> AddOutcome:
        """Add a card and place its hold. `request_key` is the request's Idempotency-Key: the
        hold's id derives from it, so a retry after a crash resumes the same hold."""
        account = self.accounts.require_active(caller.sub, consistent=True)
        hold_id = hold_id_for_card(caller.sub, request_key)
        existing = self.holds.get(caller.sub, hold_id)
        if existing is not None:
            return self._resume(existing, request)
        plan = hold_plan(account.plan)
        if request.plan is not None and request.plan != plan.key:
            raise HoldPlanNotAllowed(
                f"This account's cards are verified with the {plan.name} plan's pre-authorization; "
                "moving to another plan places that plan's own."
            )
        # Card-testing defences (`cards.guard`), before Stripe sees the card.
        self.guard.admit(caller.sub)
        self.context.budget.take(ADD_CARD_REQUESTS + (0 if account.stripe_customer_id else 1))
        guard = self.guard.reserve(caller.sub)
        try:
            return self._add_new(account, hold_id, plan, request, guard)
        except CardDeclined:
            self.guard.declined(caller.sub)
            raise

    def _add_new(
        self, account: Account, hold_id: str, plan: Plan, request: AddPaymentMethodRequest, guard: TransactItem
    ) -> AddOutcome:
        sub = account.sub
        customer_id = self.customers.ensure(account)
        try:
            card = self._attach(request.payment_method, customer_id, hold_id)
        except CardDeclined as declined:  # the issuer's check when Stripe attaches it
            self._log_declined(sub, hold_id, declined)
            raise
        if not card.fingerprint:
            raise PaymentMethodNotFound("The payment method is not a card.")
        hold = self.placement.new_hold(
            sub=sub,
            hold_id=hold_id,
            plan=plan,
            customer_id=customer_id,
            payment_method_id=card.payment_method_id,
            requested_payment_method=request.payment_method,
            fingerprint=card.fingerprint,
        )
        try:
            for _ in range(RESERVE_ATTEMPTS):
                try:
                    return self._place(hold, card, make_default=not account.default_payment_method, guard=guard)
                except CardsChanged:
                    guard = self.guard.reserve(sub)  # another card was added meanwhile: count again
            raise CardsChanged()
        except DuplicateCard as duplicate:
            # A second copy of the card goes; the payment method that holds the card's place
            # (listed, or being added by another request right now) is never detached.
            # (The background task detaches it only while it is not on the account.)
            if duplicate.held_by != card.payment_method_id:
                self.context.tasks.later(detach_task(sub, card.payment_method_id))
            raise
        except (CardLimitReached, TooManyOpenHolds, CardsChanged):
            self.context.tasks.later(detach_task(sub, card.payment_method_id))
            raise

    def _attach(self, payment_method: str, customer_id: str, request_key: str) -> CardDetails:
        """Attach the card to the customer, one Stripe request (its idempotency key names this
        request): a card collected for this customer (its SetupIntent attached it) comes back as
        it is, and a card attached to another customer is refused, which to this caller is no
        card at all (404): one account never reaches another's cards."""
        return self.gateway.cards.attach(payment_method, customer_id, request_key)

    def _place(
        self,
        hold: Hold,
        details: CardDetails,
        *,
        make_default: bool,
        recorded: bool = False,
        authorization: Authorization | None = None,
        guard: TransactItem | None = None,
    ) -> AddOutcome:
        """Place the new card's hold and store the card with its outcome."""

        def store_card(settled: Hold, settle: TransactItem, answer: Authorization) -> AddOutcome:
            verified = answer.status == "authorized"
            card = Card(
                sub=hold.sub,
                payment_method_id=details.payment_method_id,
                customer_id=hold.customer_id,
                brand=details.brand,
                last4=details.last4,
                exp_month=details.exp_month,
                exp_year=details.exp_year,
                funding=details.funding,
                fingerprint=hold.fingerprint or "",
                verification=CardVerification.VERIFIED if verified else CardVerification.REQUIRES_ACTION,
                added_at=hold.created_at,
                default=False,
                hold_id=hold.hold_id,
            )
            try:
                became_default = self.cards.record_verified(card, settle, make_default=verified and make_default)
            except HoldTaken as exc:
                # The hold was taken for release (account deletion) while Stripe authorized it:
                # void the new authorization and let the caller retry.
                self.placement.void(hold, answer)
                raise PaymentProviderUnavailable("The card verification was interrupted; retry it.") from exc
            if became_default:
                self._tell_stripe_default(card.sub)
            self._log_added(card, hold, verified=verified)
            return added_outcome(dataclasses.replace(card, default=became_default), settled, answer.client_secret)

        try:
            outcome = self.placement.place(
                hold, store_card, new_card=True, recorded=recorded, authorization=authorization, guard=guard
            )
        except CardDeclined as declined:
            self.context.tasks.later(detach_task(hold.sub, hold.payment_method_id))
            metrics.add_metric(name="CardDeclined", unit="Count", value=1)
            self._log_declined(hold.sub, hold.hold_id, declined, details)
            raise
        metrics.add_metric(
            name="CardVerified" if outcome.status == 201 else "CardNeedsAuthentication", unit="Count", value=1
        )
        return outcome

    def _log_declined(self, sub: str, hold_id: str, declined: CardDeclined, details: CardDetails | None = None) -> None:
        card: dict[str, Any] = {"brand": details.brand, "last4": details.last4} if details else {}
        decline_code = declined.extensions.get("decline_code")
        self.activity.record(sub, ActivityKind.CARD_DECLINED, hold_id, decline_code=decline_code, **card)

    def _log_added(self, card: Card, hold: Hold, *, verified: bool) -> None:
        card_details: dict[str, Any] = {
            "payment_method": card.payment_method_id,
            "brand": card.brand,
            "last4": card.last4,
        }
        self.activity.record(card.sub, ActivityKind.CARD_ADDED, card.payment_method_id, **card_details)
        if verified:
            self._log_verified(hold, card_details)

    def _log_verified(self, hold: Hold, card_details: dict[str, Any] | None = None) -> None:
        if card_details is None:  # verified later (3-D Secure)
            card_details = {"payment_method": hold.payment_method_id}
            self.activity.record(hold.sub, ActivityKind.CARD_VERIFIED, hold.payment_method_id, **card_details)
        held: dict[str, Any] = {"hold": hold.hold_id, "amount": hold.amount, "currency": hold.currency}
        self.activity.record(hold.sub, ActivityKind.HOLD_PLACED, hold.hold_id, **held, **card_details)

    def _tell_stripe_default(self, sub: str) -> None:
        """Stripe's default card follows the account's, in the background: the task sends the
        default as it is when it runs, so changes that overtake each other end right."""
        self.context.tasks.later(sync_default_task(sub))

    def _resume(self, hold: Hold, request: AddPaymentMethodRequest) -> AddOutcome:
        """The same Idempotency-Key again, after the first attempt stopped midway."""
        if hold.requested_payment_method != request.payment_method:
            raise IdempotencyKeyReused("This Idempotency-Key was used to add another card.")
        account = self.accounts.require_active(hold.sub, consistent=True)
        if hold.status != HoldStatus.AUTHORIZING:
            card = self.cards.get(hold.sub, hold.payment_method_id)
            if card is None:
                raise IdempotencyKeyReused("This Idempotency-Key was used for a card that is gone.")
            return added_outcome(card, hold)
        details = self.gateway.cards.payment_method(hold.payment_method_id)
        return self._place(
            hold,
            details,
            make_default=not account.default_payment_method,
            recorded=True,
            authorization=resumed_authorization(self.gateway, hold),
        )

    # ------------------------------------------------------------------ 3-D Secure outcomes
    def complete_verification(self, sub: str, hold_id: str, payment_intent_id: str) -> bool:
        """The bank confirmed a hold that waited for 3-D Secure (Stripe's
        `payment_intent.amount_capturable_updated`): the hold is held, the card verified, and
        the default if the account has none. False if there was nothing to complete."""
        hold = self.holds.get(sub, hold_id)
        # Only a hold that waits for the customer's authentication: Stripe sends the same event
        # for every manual-capture authorization, and a hold still `authorizing` belongs to an
        # add-card request that is running (or will be resumed); that request records it.
        if hold is None or hold.status != HoldStatus.REQUIRES_ACTION:
            return False
        account = self.accounts.get(sub, consistent=True)
        make_default = account is not None and not account.default_payment_method
        settle = self.holds.settle(hold, HoldStatus.HELD, payment_intent_id)
        done, became_default = self.cards.complete_verification(hold, settle, make_default=make_default)
        if done == Completion.CARD_GONE:  # the card was removed meanwhile: the hold still gets released
            self.holds.mark_held(hold, payment_intent_id)
            return True
        if became_default:
            self._tell_stripe_default(sub)
        if done == Completion.COMPLETED:
            self.activity.record(
                sub, ActivityKind.CARD_VERIFIED, hold.payment_method_id, payment_method=hold.payment_method_id
            )
            self.activity.record(
                sub,
                ActivityKind.HOLD_PLACED,
                hold.hold_id,
                hold=hold.hold_id,
                amount=hold.amount,
                currency=hold.currency,
            )
        return done == Completion.COMPLETED

    def fail_verification(self, sub: str, hold_id: str) -> bool:
        """3-D Secure failed or was abandoned (`payment_intent.payment_failed`): the card waiting
        for it failed verification; its hold is released at its time. False if none was waiting."""
        hold = self.holds.get(sub, hold_id)
        if hold is None or hold.status != HoldStatus.REQUIRES_ACTION:
            return False
        if not self.cards.mark_verification_failed(sub, hold.payment_method_id):
            return False
        self.guard.declined(sub)  # a failed authentication counts against card testing like a decline
        logger.info("Card verification failed (3-D Secure)", extra={"hold_id": hold_id})
        return True

    def authorization_ended(self, sub: str, hold_id: str) -> bool:
        """Stripe cancelled a held hold's authorization itself (`payment_intent.canceled`: seven
        days uncaptured, or cancelled outside this service): the hold is released now, so it no
        longer shows money held; the release finds it cancelled and records it `expired`. False
        if the hold was not held (a release of ours is under way or done, or it never was)."""
        hold = self.holds.get(sub, hold_id)
        if hold is None or hold.status != HoldStatus.HELD:
            return False
        return self.releaser.release(sub, hold_id).result == "released"

    # ------------------------------------------------------------------ listing and choosing
    def list(self, caller: Caller) -> PaymentMethodList:
        """The cards, newest first, each with its hold (two requests: a Query, a BatchGetItem)."""
        cards = sorted(self.cards.cards(caller.sub), key=lambda c: c.added_at, reverse=True)
        account, holds = self.cards.with_account_and_holds(caller.sub, cards)
        require_active(account)
        return PaymentMethodList(payment_methods=[card_view(c, holds.get(c.hold_id or "")) for c in cards])

    def set_default(self, caller: Caller, payment_method_id: str) -> None:
        cards = {c.payment_method_id: c for c in self.cards.cards(caller.sub)}
        card = cards.get(payment_method_id)
        if card is None:
            raise PaymentMethodNotFound("No such payment method.")
        if not card.verified:
            raise CardNotVerified("Only a verified card can be the default.")
        if card.default:
            return
        logged = self.activity.entry(
            caller, ActivityKind.DEFAULT_CARD_CHANGED, payment_method_id, brand=card.brand, last4=card.last4
        )
        self.cards.set_default(card, next((c for c in cards.values() if c.default), None), also=[logged])
        self._tell_stripe_default(caller.sub)

    def remove(self, caller: Caller, payment_method_id: str) -> None:
        """Remove a card. The default card stays while a paid plan is active and no other
        verified card can take its place; otherwise another verified card becomes the default."""
        cards = {c.payment_method_id: c for c in self.cards.cards(caller.sub)}
        card = cards.get(payment_method_id)
        if card is None:
            raise PaymentMethodNotFound("No such payment method.")
        successor = None
        if card.default:
            others = [c for c in cards.values() if c is not card and c.verified]
            successor = max(others, key=lambda c: c.added_at) if others else None
        logged = self.activity.entry(
            caller,
            ActivityKind.CARD_REMOVED,
            payment_method_id,
            payment_method=payment_method_id,
            brand=card.brand,
            last4=card.last4,
        )
        self.cards.remove(card, successor, also=[logged])
        self.activity.committed(logged)
        self.releaser.release_card_holds(caller.sub, payment_method_id)
        self.context.tasks.later(detach_task(caller.sub, payment_method_id))
        if successor is not None:
            self._tell_stripe_default(caller.sub)
        metrics.add_metric(name="CardRemoved", unit="Count", value=1)
