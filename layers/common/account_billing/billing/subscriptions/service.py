"""Moving between plans (DESIGN §5): the account's subscription, moving to another plan, undoing
a scheduled change, previewing what a change costs.

Moving to a plan:
- a paid plan needs a verified default card; if that card's hold was for less than the plan's
  pre-authorization, a hold of the new amount is placed first (`holds.placement`; a decline:
  402, nothing changes);
- from Community: a subscription is created, its first invoice paid at once (or 402);
- to a higher plan: the Price changes at once, the proration invoiced and paid immediately;
- to a lower paid plan: a SubscriptionSchedule makes the change at the end of the period;
- to Community: the subscription is cancelled at the end of the period.
A scheduled change is released (undone) before any other change. Every Stripe request carries
an idempotency key derived from the request's Idempotency-Key; the result is stored in the
copy of the subscription (`store`) at once, and the webhook keeps it current afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from account_billing.accounts.records import Account
from account_billing.activity.records import ActivityKind
from account_billing.billing.cards.records import Card
from account_billing.billing.context import BillingContext
from account_billing.billing.holds.placement import HoldPlacement
from account_billing.billing.holds.records import Hold, HoldStatus, hold_id_for_plan_change
from account_billing.billing.plans import PLANS, Plan, price_id
from account_billing.billing.stripe.results import (
    Authorization,
    CancellationReason,
    InvoicePreview,
    StripeSchedule,
    StripeSubscription,
)
from account_billing.billing.subscriptions.errors import NoScheduledChange, NoVerifiedCard, PlanNotAvailable
from account_billing.billing.subscriptions.models import SubscriptionPreview, SubscriptionView
from account_billing.billing.subscriptions.records import Subscription, is_live, read_time
from account_billing.billing.subscriptions.views import subscription_view
from account_billing.core.clock import epoch_seconds
from account_billing.core.identity import Caller
from account_billing.core.observability import logger, metrics
from account_billing.core.table import TransactItem

ORDER = {key: index for index, key in enumerate(PLANS)}
# A plan change holds the account's change lock at most this long (longer than any change's
# Stripe calls with their retries); a crashed change's lock is taken again after it.
CHANGE_LEASE_SECONDS = 120


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]


class SubscriptionService:
    def __init__(self, context: BillingContext) -> None:
        self.context = context
        self.placement = HoldPlacement(context)

    # ------------------------------------------------------------------ reading
    def view(self, caller: Caller) -> SubscriptionView:
        self.context.accounts.require_active(caller.sub, consistent=True)
        return subscription_view(self.context.subscriptions.get(caller.sub))

    def _live(self, sub: str) -> Subscription | None:
        record = self.context.subscriptions.get(sub)
        return record if record is not None and record.live else None

    def _price(self, plan: Plan) -> str:
        try:
            return price_id(plan, self.context.settings.plan_price_ids)
        except LookupError as exc:
            raise PlanNotAvailable(str(exc)) from exc

    # ------------------------------------------------------------------ changing
    def change(
        self, caller: Caller, plan_key: str, request_key: str, reason: CancellationReason | None = None
    ) -> SubscriptionView:
        """Move to a plan (`reason`: why, when leaving for Community). One change at a time per
        account: two concurrent requests (with different Idempotency-Keys) could otherwise both
        subscribe, and charge twice."""
        account = self.context.accounts.require_active(caller.sub, consistent=True)
        with self._changing(caller.sub):
            changed = self._change(account, plan_key, request_key, read_time(), reason)
        self.context.activity.record(caller, ActivityKind.PLAN_CHANGED, plan=plan_key, previous_plan=account.plan)
        return changed

    @contextmanager
    def _changing(self, sub: str) -> Iterator[None]:
        self.context.subscriptions.lock_changes(sub, epoch_seconds(self.context.clock()), CHANGE_LEASE_SECONDS)
        try:
            yield
        finally:
            self.context.subscriptions.unlock_changes(sub)

    def _change(  # noqa: PLR0911
        self, account: Account, plan_key: str, request_key: str, started: int, reason: CancellationReason | None
    ) -> SubscriptionView:
        sub = account.sub
        stripe = self.context.gateway.subscriptions
        target = PLANS[plan_key]
        current = self._live(sub)
        key = _key(sub, request_key)
        if not target.paid:
            if current is not None and not current.cancel_at_period_end:
                self._release_schedule(current)
                updated = stripe.set_cancel_at_period_end(current.subscription_id, True, f"cancel-{key}", reason)
                metrics.add_metric(name="SubscriptionCancelled", unit="Count", value=1)
                return self._store(sub, updated, started=started)
            return subscription_view(current or self.context.subscriptions.get(sub))
        new_price = self._price(target)
        card = self._verified_default_card(account)
        self._ensure_hold(card, target, key)
        customer_id = self.context.customers.ensure(account)
        if current is None:
            # The copy may lag Stripe: an earlier subscribe whose answer was lost (retried with
            # another Idempotency-Key before its webhook arrived) must not be made twice.
            known = next((s for s in stripe.of_customer(customer_id) if is_live(s.status)), None)
            if known is not None:
                self._store(sub, known, started=started)
                current = self._live(sub)
        if current is None:
            created = stripe.create(
                customer_id=customer_id,
                price_id=new_price,
                account_key=sub,
                payment_method_id=card.payment_method_id,
                idempotency_key=f"subscribe-{key}",
            )
            metrics.add_metric(name="Subscribed", unit="Count", value=1)
            return self._store(sub, created, started=started)
        self._release_schedule(current)
        if current.price_id == new_price:
            if current.cancel_at_period_end:
                updated = stripe.set_cancel_at_period_end(current.subscription_id, False, f"resume-{key}")
                return self._store(sub, updated, started=started)
            return self._store(sub, stripe.retrieve(current.subscription_id), started=started)
        if current.plan not in ORDER or ORDER[target.key] > ORDER[current.plan]:
            updated = stripe.change_price(
                current.subscription_id, current.item_id, new_price, card.payment_method_id, f"upgrade-{key}"
            )
            metrics.add_metric(name="PlanUpgraded", unit="Count", value=1)
            return self._store(sub, updated, started=started)
        if current.cancel_at_period_end:
            stripe.set_cancel_at_period_end(current.subscription_id, False, f"resume-{key}")
        schedule = stripe.schedule_price_change(
            current.subscription_id, current.price_id, new_price, f"downgrade-{key}"
        )
        metrics.add_metric(name="PlanDowngraded", unit="Count", value=1)
        return self._store(sub, stripe.retrieve(current.subscription_id), schedule, started=started)

    def undo_scheduled_change(self, caller: Caller) -> SubscriptionView:
        # No account read: the copy's write is conditioned on the account being active. No
        # change lock either: undoing moves no money, and Stripe refuses what no longer applies.
        started = read_time()
        stripe = self.context.gateway.subscriptions
        current = self._live(caller.sub)
        if current is None or not (current.cancel_at_period_end or current.schedule_id):
            raise NoScheduledChange("No downgrade or cancellation is scheduled.")
        self._release_schedule(current)
        metrics.add_metric(name="ScheduledChangeUndone", unit="Count", value=1)
        if current.cancel_at_period_end:
            updated = stripe.set_cancel_at_period_end(
                current.subscription_id, False, f"undo-{_key(caller.sub, str(current.synced_at))}"
            )
            return self._store(caller.sub, updated, started=started)
        return self._store(caller.sub, stripe.retrieve(current.subscription_id), started=started)

    def _release_schedule(self, current: Subscription) -> None:
        if current.schedule_id:
            self.context.gateway.subscriptions.release_schedule(current.schedule_id)

    def _store(
        self,
        sub: str,
        stripe_sub: StripeSubscription,
        schedule: StripeSchedule | None = None,
        *,
        started: int,
    ) -> SubscriptionView:
        """Store what Stripe answered, as read when the request began: a webhook that read the
        subscription after that (and may have seen more) is never overwritten by this answer."""
        if schedule is None and stripe_sub.schedule_id:
            schedule = self.context.gateway.subscriptions.schedule(stripe_sub.schedule_id)
        record = Subscription.from_stripe(sub, stripe_sub, schedule, self.context.settings.plan_price_ids, started)
        # Not stored: a webhook read the subscription after this request began (its own events
        # follow and bring the copy up to date); the caller sees Stripe's answer to the change.
        self.context.subscriptions.save(record)
        return subscription_view(record)

    # ------------------------------------------------------------------ the card and its hold
    def _verified_default_card(self, account: Account) -> Card:
        default = account.default_payment_method
        card = self.context.cards.get(account.sub, default) if default else None
        if card is None or not card.verified:
            raise NoVerifiedCard("A paid plan needs a verified default card; add a card first.")
        return card

    def _ensure_hold(self, card: Card, plan: Plan, change_key: str) -> None:
        """A hold of the plan's pre-authorization on the card, unless it had one as large."""
        holds = self.context.holds
        existing = holds.get(card.sub, card.hold_id) if card.hold_id else None
        if existing is not None and existing.amount >= int(plan.hold_amount or 0):
            return
        hold_id = hold_id_for_plan_change(card.sub, change_key)
        hold = holds.get(card.sub, hold_id)
        if hold is not None and hold.status != HoldStatus.AUTHORIZING:
            return  # a retry of this request: the hold was placed
        recorded = hold is not None
        if hold is None:
            hold = self.placement.new_hold(
                sub=card.sub,
                hold_id=hold_id,
                plan=plan,
                customer_id=card.customer_id,
                payment_method_id=card.payment_method_id,
                requested_payment_method=card.payment_method_id,
                fingerprint=card.fingerprint,
            )

        def attach_to_card(settled: Hold, settle: TransactItem, _: Authorization) -> None:
            self.context.cards.attach_hold(card.sub, card.payment_method_id, settled.hold_id, settle)

        self.placement.place(hold, attach_to_card, new_card=False, recorded=recorded)
        logger.info("Plan pre-authorization placed", extra={"hold_id": hold_id, "plan": plan.key})

    # ------------------------------------------------------------------ preview
    def preview(self, caller: Caller, plan_key: str) -> SubscriptionPreview:
        account = self.context.accounts.require_active(caller.sub, consistent=True)
        target = PLANS[plan_key]
        current = self._live(caller.sub)
        currency = self.context.settings.currency
        if not target.paid:
            return SubscriptionPreview(
                plan=target.key, effective="period_end", amount_due_now=0, amount_due_at_renewal=0, currency=currency
            )
        new_price = self._price(target)
        customer_id = self.context.customers.ensure(account)
        invoices = self.context.gateway.invoices
        if current is None:
            first = invoices.preview(customer_id, price_id=new_price)
            return SubscriptionPreview(
                plan=target.key,
                effective="now",
                amount_due_now=first.amount_due,
                amount_due_at_renewal=first.amount_due,
                currency=first.currency,
            )
        upgrade = ORDER[target.key] > ORDER.get(current.plan, 0)

        def changed(proration_behavior: str) -> InvoicePreview:
            return invoices.preview(
                customer_id,
                price_id=new_price,
                subscription_id=current.subscription_id,
                item_id=current.item_id,
                proration_behavior=proration_behavior,
            )

        now_due = changed("always_invoice").amount_due if upgrade else 0
        renewal = changed("none")
        return SubscriptionPreview(
            plan=target.key,
            effective="now" if upgrade else "period_end",
            amount_due_now=now_due,
            amount_due_at_renewal=renewal.amount_due,
            currency=renewal.currency,
        )
