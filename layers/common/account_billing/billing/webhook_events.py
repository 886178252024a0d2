"""Stripe's events, as the webhook receives them (verified, as plain data): each is applied once
(a marker `STRIPE_EVENT#<id>` with a TTL), in any order, any number of times.

Objects are fetched again from Stripe before they are stored: an event says *that* something
changed, Stripe says what it is now, so an old event delivered late stores the current state,
never an older one (the mirror's `synced_at` keeps two concurrent deliveries in order too).
Events whose customer belongs to no active account (a deleted one, or none) change nothing.
A failure raises: the webhook answers 5xx and Stripe delivers the event again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..data import keys
from ..data.accounts import ACTIVE, AccountStore
from ..data.table import ConditionFailed, Table, values
from ..errors import DefaultCardRequired
from ..identity import Caller
from ..observability import logger
from .mirror import Mirror, read_time
from .stripe_events import on_payment_intent_event

if TYPE_CHECKING:
    from .cards import PaymentMethodService

EVENT_MARKER_DAYS = 30  # Stripe retries a delivery for up to three days
LEASE_SECONDS = 60
Outcome = Literal["processed", "duplicate", "ignored", "in_progress"]

INVOICE_EVENTS = frozenset(
    {
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
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


def event_key(event_id: str) -> keys.Key:
    return {"PK": f"STRIPE_EVENT#{event_id}", "SK": "STRIPE_EVENT"}


class StripeEvents:
    def __init__(self, cards: PaymentMethodService, mirror: Mirror) -> None:
        self.cards = cards
        self.table: Table = cards.table
        self.gateway = cards.gateway
        self.accounts = AccountStore(cards.table)
        self.mirror = mirror

    # ------------------------------------------------------------------ once per event
    def handle(self, event: Mapping[str, Any]) -> Outcome:
        event_id, event_type = str(event["id"]), str(event["type"])
        if not self._claim(event_id):
            marker = self.table.get(event_key(event_id), consistent=True) or {}
            return "duplicate" if marker.get("state") == "done" else "in_progress"
        try:
            applied = self._apply(event_type, event["data"]["object"], event["data"].get("previous_attributes") or {})
        except Exception:
            self.table.delete(event_key(event_id))  # let Stripe's next delivery try again
            raise
        self.table.update(
            event_key(event_id),
            UpdateExpression="SET #state = :done",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values(done="done"),
        )
        logger.info("Stripe event", extra={"event_id": event_id, "type": event_type, "applied": applied})
        return "processed" if applied else "ignored"

    def _claim(self, event_id: str) -> bool:
        now = int(time.time())
        try:
            self.table.put(
                {
                    **event_key(event_id),
                    "entity": "stripe-event",
                    "state": "processing",
                    "lease_until": now + LEASE_SECONDS,
                    "expires_at": now + EVENT_MARKER_DAYS * 86400,
                },
                ConditionExpression="attribute_not_exists(PK) OR (#state = :processing AND lease_until < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values(processing="processing", now=now),
            )
        except ConditionFailed:
            return False
        return True

    # ------------------------------------------------------------------ by type
    def _apply(self, event_type: str, obj: Mapping[str, Any], previous: Mapping[str, Any]) -> bool:  # noqa: PLR0911
        if event_type in INVOICE_EVENTS:
            return self._invoice(obj)
        if event_type in SUBSCRIPTION_EVENTS:
            return self._subscription(str(obj["id"]), obj)
        if event_type in SCHEDULE_EVENTS:
            subscription = obj.get("subscription") or obj.get("released_subscription")
            return bool(subscription) and self._subscription(str(subscription), None)
        if event_type == "payment_intent.canceled":
            # A hold still waiting for 3-D Secure was cancelled (abandoned, or expired): to the
            # card, the same as a failed authentication. Released holds are no longer waiting.
            return on_payment_intent_event(self.cards, "payment_intent.payment_failed", obj)
        if event_type in HOLD_EVENTS:
            return on_payment_intent_event(self.cards, event_type, obj)
        if event_type == "payment_method.detached":
            return self._detached(obj, previous)
        if event_type == "customer.deleted":
            sub = self._account_of(str(obj["id"]), (obj.get("metadata") or {}).get("account"))
            return sub is not None and self.mirror.forget_customer(sub, str(obj["id"]))
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
        if sub is None or self.cards.cards.get(sub, str(obj["id"])) is None:
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
        sub = str(hint) if hint else None
        if sub is None:
            customer = self.gateway.customer(customer_id)
            sub = (customer.get("metadata") or {}).get("account")
        if not sub:
            return None
        account = self.accounts.get(sub, consistent=True)
        if account is None or account.get("status") != ACTIVE or account.get("stripe_customer_id") != customer_id:
            return None
        return str(sub)

    def _invoice(self, obj: Mapping[str, Any]) -> bool:
        if not obj.get("id") or not obj.get("customer"):
            return False
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        sub = self._account_of(str(obj["customer"]), (details.get("metadata") or {}).get("account"))
        if sub is None:
            return False
        synced = read_time()
        invoice = self.gateway.invoice(str(obj["id"]))
        return invoice is not None and self.mirror.save_invoice(sub, invoice, synced)

    def _subscription(self, subscription_id: str, obj: Mapping[str, Any] | None) -> bool:
        synced = read_time()
        current = self.gateway.subscription(subscription_id)
        sub = self._account_of(str(current["customer"]), (current.get("metadata") or {}).get("account"))
        if sub is None:
            return False
        schedule = self.gateway.schedule(str(current["schedule"])) if current.get("schedule") else None
        return self.mirror.save_subscription(sub, current, schedule, synced) is not None
