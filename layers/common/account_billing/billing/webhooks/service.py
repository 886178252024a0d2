"""Stripe's events, as the webhook receives them (verified): each is applied once (a marker with a
TTL, `store`), in any order, any number of times.

Objects are fetched again from Stripe before they are stored: an event says *that* something
changed, Stripe says what it is now, so an old event delivered late stores the current state,
never an older one (the copy's `synced_at` keeps two concurrent deliveries in order too). Events
whose customer belongs to no active account (a deleted one, or none) change nothing. A failure
raises: the webhook answers 5xx and Stripe delivers the event again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from account_billing.billing.cards.errors import DefaultCardRequired
from account_billing.billing.context import BillingContext
from account_billing.billing.invoices.records import Invoice
from account_billing.billing.notices import PaymentNotices
from account_billing.billing.stripe.results import StripeEvent
from account_billing.billing.subscriptions.records import UNPAID_STATUSES, Subscription, read_time
from account_billing.billing.webhooks.payment_intents import on_payment_intent_event
from account_billing.core.identity import Caller
from account_billing.core.observability import logger, metrics
from account_billing.core.origin import acting, stripe_origin

if TYPE_CHECKING:
    from account_billing.billing.cards.service import CardService

Outcome = Literal["processed", "duplicate", "ignored", "in_progress"]

INVOICE_EVENTS = frozenset(
    {
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoice.payment_action_required",
        "invoice.voided",
        "invoice.marked_uncollectible",
        "invoice.updated",
    }
)
SUBSCRIPTION_EVENTS = frozenset(
    {"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"}
)
SCHEDULE_EVENTS = frozenset(
    {
        "subscription_schedule.created",
        "subscription_schedule.updated",
        "subscription_schedule.released",
        "subscription_schedule.canceled",
        "subscription_schedule.completed",
    }
)
HOLD_EVENTS = frozenset(
    {"payment_intent.amount_capturable_updated", "payment_intent.payment_failed", "payment_intent.canceled"}
)
# Cards are added through the API (which confirms the SetupIntent's card with a hold): a
# SetupIntent's own outcome changes nothing here.
LOGGED_ONLY = frozenset({"setup_intent.succeeded", "setup_intent.setup_failed", "setup_intent.canceled"})


class StripeEvents:
    def __init__(
        self, context: BillingContext, cards: Callable[[], CardService], notices: PaymentNotices | None = None
    ) -> None:
        self.context = context
        self._cards = cards  # built for the events about cards and holds only (a cold start's cost)
        self.notices = notices
        self.events = context.events
        self.gateway = context.gateway

    @property
    def cards(self) -> CardService:
        return self._cards()

    # ------------------------------------------------------------------ once per event
    def handle(self, event: StripeEvent) -> Outcome:
        if not self.events.claim(event.id, int(time.time())):
            return "duplicate" if self.events.applied(event.id) else "in_progress"
        try:
            with acting(stripe_origin(event)):  # what it changes is logged as Stripe's doing, once per event
                applied = self._apply(event.type, event.data_object, event.previous_attributes)
        except Exception:
            self.events.forget(event.id)  # let Stripe's next delivery try again
            metrics.add_metric(name="StripeEventFailed", unit="Count", value=1)
            logger.warning(
                "Stripe event not applied; Stripe delivers it again", extra={"event_id": event.id, "type": event.type}
            )
            raise
        self.events.done(event.id)
        if applied:
            metrics.add_metric(name="StripeEventApplied", unit="Count", value=1)
        logger.info("Stripe event", extra={"event_id": event.id, "type": event.type, "applied": applied})
        return "processed" if applied else "ignored"

    # ------------------------------------------------------------------ by type
    def _apply(self, event_type: str, obj: Mapping[str, Any], previous: Mapping[str, Any]) -> bool:  # noqa: PLR0911
        if event_type in INVOICE_EVENTS:
            return self._invoice(obj, event_type)
        if event_type in SUBSCRIPTION_EVENTS:
            return self._subscription(str(obj["id"]))
        if event_type in SCHEDULE_EVENTS:
            subscription = obj.get("subscription") or obj.get("released_subscription")
            return bool(subscription) and self._subscription(str(subscription))
        if event_type in HOLD_EVENTS:
            return on_payment_intent_event(self.cards, event_type, obj)
        if event_type == "payment_method.detached":
            return self._detached(obj, previous)
        if event_type == "customer.deleted":
            sub = self._account_of(str(obj["id"]), (obj.get("metadata") or {}).get("account"))
            return sub is not None and self.context.subscriptions.forget_customer(sub, str(obj["id"]))
        if event_type in LOGGED_ONLY:
            return False
        return False  # an event type this service does not use

    def _detached(self, obj: Mapping[str, Any], previous: Mapping[str, Any]) -> bool:
        """A card detached at Stripe (the Dashboard, or Stripe itself): it goes from the account
        as if removed through the API (another verified card becomes the default), unless it is
        the only card of a paid plan, which stays listed until the customer adds another."""
        customer = previous.get("customer")
        if not customer or not obj.get("id"):
            return False
        sub = self._account_of(str(customer), None)
        if sub is None or self.context.cards.get(sub, str(obj["id"])) is None:
            return False
        try:
            self.cards.remove(Caller(sub), str(obj["id"]))
        except DefaultCardRequired:
            logger.warning("The default card of a paid plan was detached at Stripe", extra={"account": sub})
            return False
        return True

    def _account_of(self, customer_id: str, hint: Any) -> str | None:
        """The account of a Stripe customer: named in the object's metadata, else in the
        customer's; only an active account that has this customer counts."""
        sub = str(hint) if hint else self.gateway.customers.account_of(customer_id)
        if not sub:
            return None
        account = self.context.accounts.get(sub, consistent=True)
        if account is None or not account.active or account.stripe_customer_id != customer_id:
            return None
        return sub

    def _invoice(self, obj: Mapping[str, Any], event_type: str) -> bool:
        if not obj.get("id") or not obj.get("customer"):
            return False
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        sub = self._account_of(str(obj["customer"]), (details.get("metadata") or {}).get("account"))
        if sub is None:
            return False
        synced = read_time()
        invoice = self.gateway.invoices.retrieve(str(obj["id"]))
        if invoice is None:
            return False
        saved = self.context.invoices.save(Invoice.from_stripe(sub, invoice, synced), invoice.customer_id)
        if self.notices is not None:
            self.notices.after(event_type, sub, invoice)
        return saved

    def _subscription(self, subscription_id: str) -> bool:
        synced = read_time()
        current = self.gateway.subscriptions.retrieve(subscription_id)
        sub = self._account_of(current.customer_id, current.account)
        if sub is None:
            return False
        schedule = self.gateway.subscriptions.schedule(current.schedule_id) if current.schedule_id else None
        unpaid = current.status in UNPAID_STATUSES and current.latest_invoice
        due = self.gateway.invoices.retrieve(current.latest_invoice) if unpaid and current.latest_invoice else None
        record = Subscription.from_stripe(sub, current, schedule, self.context.settings.plan_price_ids, synced, due=due)
        return self.context.subscriptions.save(record)
