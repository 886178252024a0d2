"""Plans and the account's subscription (DESIGN §5): what it is, moving to another plan, undoing
a scheduled change, previewing what a change costs.

Moving to a plan:
- a paid plan needs a verified default card; if that card's hold was for less than the plan's
  pre-authorization, a hold of the new amount is placed first (a decline: 402, nothing changes);
- from Community: a subscription is created, its first invoice paid at once (or 402);
- to a higher plan: the Price changes at once, the proration invoiced and paid immediately;
- to a lower paid plan: a SubscriptionSchedule makes the change at the end of the period;
- to Community: the subscription is cancelled at the end of the period.
A scheduled change is released (undone) before any other change. Every Stripe request carries
an idempotency key derived from the request's Idempotency-Key; the result is stored in the
mirror (`mirror.py`) at once, and the webhook keeps it current afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..data import keys
from ..data.accounts import ACTIVE, AccountStore
from ..data.table import ConditionFailed, TransactionCancelled, marshal, values
from ..errors import (
    AccountNotFound,
    CardDeclined,
    ConcurrentUpdate,
    NoScheduledChange,
    NoVerifiedCard,
    PlanNotAvailable,
)
from ..identity import Caller
from ..models.subscription_responses import (
    PlanList,
    PlanView,
    ScheduledChange,
    SubscriptionPreview,
    SubscriptionView,
)
from ..observability import logger, metrics
from .holds import new_hold
from .mirror import LIVE, Mirror, plan_in_effect, read_time, subscription_record
from .plans import FREE_PLAN, PLANS, Plan, plan_of, price_id
from .records import AUTHORIZING, HELD, card_key, hold_key

if TYPE_CHECKING:
    from .cards import PaymentMethodService
    from .settings import BillingSettings

ORDER = {key: index for index, key in enumerate(PLANS)}
# A plan change holds the account's change lock at most this long (longer than any change's
# Stripe calls with their retries); a crashed change's lock is taken again after it.
CHANGE_LEASE_SECONDS = 120


def change_lock_key(sub: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": "PLAN_CHANGE"}


def plan_list(settings: BillingSettings) -> PlanList:
    """The plans of this stage: the free plan and every paid plan with a configured Price."""
    return PlanList(
        plans=[
            PlanView(
                key=plan.key,
                name=plan.name,
                monthly_price=settings.plan_monthly_prices.get(plan.key, 0),
                currency=settings.currency,
                spending_limit=plan.monthly_spending_limit,
                pre_authorization=plan.hold_amount,
            )
            for plan in PLANS.values()
            if not plan.paid or plan.key in settings.plan_price_ids
        ]
    )


def _when(epoch: Any) -> datetime | None:
    return datetime.fromtimestamp(int(epoch), UTC) if epoch is not None else None


def subscription_view(record: Mapping[str, Any] | None) -> SubscriptionView:
    if record is None:
        return SubscriptionView(
            plan=FREE_PLAN.key,
            plan_name=FREE_PLAN.name,
            status="none",
            current_period_start=None,
            current_period_end=None,
            scheduled_change=None,
            spending_limit=FREE_PLAN.monthly_spending_limit,
        )
    plan = plan_of(plan_in_effect(record))
    live = record["status"] in LIVE
    change = None
    if live and record.get("cancel_at_period_end"):
        change = ScheduledChange(kind="cancellation", plan=FREE_PLAN.key, effective_at=_when(record["period_end"]))
    elif live and record.get("scheduled_plan"):
        change = ScheduledChange(
            kind="downgrade", plan=record["scheduled_plan"], effective_at=_when(record["period_end"])
        )
    return SubscriptionView(
        plan=plan.key,
        plan_name=plan.name,
        status=record["status"],
        current_period_start=_when(record.get("period_start")) if live else None,
        current_period_end=_when(record.get("period_end")) if live else None,
        scheduled_change=change,
        spending_limit=plan.monthly_spending_limit,
    )


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]


class SubscriptionService:
    def __init__(
        self,
        cards: PaymentMethodService,
        settings: BillingSettings,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.cards = cards
        self.table = cards.table
        self.gateway = cards.gateway
        self.accounts = AccountStore(cards.table)
        self.settings = settings
        self.mirror = Mirror(cards.table, settings.plan_price_ids)
        self.clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------------ reading
    def _account(self, sub: str) -> dict[str, Any]:
        account = self.accounts.get(sub, consistent=True)
        if account is None or account.get("status") != ACTIVE:
            raise AccountNotFound("The caller has no account.")
        return account

    def view(self, caller: Caller) -> SubscriptionView:
        self._account(caller.sub)
        return subscription_view(self.mirror.subscription(caller.sub))

    def _live(self, sub: str) -> dict[str, Any] | None:
        record = self.mirror.subscription(sub)
        return record if record is not None and record["status"] in LIVE else None

    def _price(self, plan: Plan) -> str:
        try:
            return price_id(plan, self.settings.plan_price_ids)
        except LookupError as exc:
            raise PlanNotAvailable(str(exc)) from exc

    # ------------------------------------------------------------------ changing
    def change(self, caller: Caller, plan_key: str, request_key: str) -> SubscriptionView:
        """Move to a plan. One change at a time per account: two concurrent requests (with
        different Idempotency-Keys) could otherwise both subscribe, and charge twice."""
        account = self._account(caller.sub)
        with self._changing(caller.sub):
            return self._change(caller.sub, account, plan_key, request_key, read_time())

    @contextmanager
    def _changing(self, sub: str) -> Iterator[None]:
        now = int(self.clock().timestamp())
        try:
            self.table.put(
                {**change_lock_key(sub), "entity": "plan-change", "lease_until": now + CHANGE_LEASE_SECONDS},
                ConditionExpression="attribute_not_exists(PK) OR lease_until < :now",
                ExpressionAttributeValues=values(now=now),
            )
        except ConditionFailed as exc:
            raise ConcurrentUpdate("Another plan change is in progress; retry it.") from exc
        try:
            yield
        finally:
            self.table.delete(change_lock_key(sub))

    def _change(  # noqa: PLR0911
        self, sub: str, account: dict[str, Any], plan_key: str, request_key: str, started: int
    ) -> SubscriptionView:
        target = PLANS[plan_key]
        current = self._live(sub)
        key = _key(sub, request_key)
        if not target.paid:
            if current is not None and not current["cancel_at_period_end"]:
                self._release_schedule(current)
                updated = self.gateway.set_cancel_at_period_end(current["subscription_id"], True, f"cancel-{key}")
                return self._store(sub, updated, started=started)
            return subscription_view(current or self.mirror.subscription(sub))
        new_price = self._price(target)
        card = self._verified_default_card(account)
        self._ensure_hold(account, card, target, key)
        customer_id = self.cards.customers.ensure(account)
        if current is None:
            # The copy may lag Stripe: an earlier subscribe whose answer was lost (retried with
            # another Idempotency-Key before its webhook arrived) must not be made twice.
            known = next((s for s in self.gateway.subscriptions_of(customer_id) if s["status"] in LIVE), None)
            if known is not None:
                self._store(sub, known, started=started)
                current = self._live(sub)
        if current is None:
            created = self.gateway.create_subscription(
                customer_id=customer_id,
                price_id=new_price,
                account_key=sub,
                payment_method_id=card["payment_method_id"],
                idempotency_key=f"subscribe-{key}",
            )
            metrics.add_metric(name="Subscribed", unit="Count", value=1)
            return self._store(sub, created, started=started)
        self._release_schedule(current)
        if current["price_id"] == new_price:
            if current["cancel_at_period_end"]:
                updated = self.gateway.set_cancel_at_period_end(current["subscription_id"], False, f"resume-{key}")
                return self._store(sub, updated, started=started)
            return self._store(sub, self.gateway.subscription(current["subscription_id"]), started=started)
        if ORDER[target.key] > ORDER[current["plan"]] or current["plan"] not in ORDER:
            updated = self.gateway.change_subscription_price(
                current["subscription_id"], current["item_id"], new_price, card["payment_method_id"], f"upgrade-{key}"
            )
            metrics.add_metric(name="PlanUpgraded", unit="Count", value=1)
            return self._store(sub, updated, started=started)
        if current["cancel_at_period_end"]:
            self.gateway.set_cancel_at_period_end(current["subscription_id"], False, f"resume-{key}")
        schedule = self.gateway.schedule_price_change(
            current["subscription_id"], current["price_id"], new_price, f"downgrade-{key}"
        )
        return self._store(sub, self.gateway.subscription(current["subscription_id"]), schedule, started=started)

    def undo_scheduled_change(self, caller: Caller) -> SubscriptionView:
        # No account read: the mirror's write is conditioned on the account being active. No
        # change lock either: undoing moves no money, and Stripe refuses what no longer applies.
        started = read_time()
        current = self._live(caller.sub)
        if current is None or not (current["cancel_at_period_end"] or current.get("schedule_id")):
            raise NoScheduledChange("No downgrade or cancellation is scheduled.")
        if current.get("schedule_id"):
            self.gateway.release_schedule(current["schedule_id"])
        if current["cancel_at_period_end"]:
            updated = self.gateway.set_cancel_at_period_end(
                current["subscription_id"], False, f"undo-{_key(caller.sub, str(current['synced_at']))}"
            )
            return self._store(caller.sub, updated, started=started)
        return self._store(caller.sub, self.gateway.subscription(current["subscription_id"]), started=started)

    def _release_schedule(self, current: Mapping[str, Any]) -> None:
        if current.get("schedule_id"):
            self.gateway.release_schedule(current["schedule_id"])

    def _store(
        self,
        sub: str,
        stripe_sub: Mapping[str, Any],
        schedule: Mapping[str, Any] | None = None,
        *,
        started: int,
    ) -> SubscriptionView:
        """Store what Stripe answered, as read when the request began: a webhook that read the
        subscription after that (and may have seen more) is never overwritten by this answer."""
        if schedule is None and stripe_sub.get("schedule"):
            schedule = self.gateway.schedule(str(stripe_sub["schedule"]))
        record = self.mirror.save_subscription(sub, stripe_sub, schedule, started)
        if record is None:
            # A webhook read the subscription after this request began (its own events follow
            # and bring the mirror up to date); the caller sees Stripe's answer to the change.
            record = subscription_record(sub, stripe_sub, schedule, self.settings.plan_price_ids, started)
        return subscription_view(record)

    # ------------------------------------------------------------------ the card
    def _verified_default_card(self, account: Mapping[str, Any]) -> dict[str, Any]:
        default = account.get("default_payment_method")
        card = self.cards.cards.get(account["sub"], str(default)) if default else None
        if card is None or card.get("verification") != "verified":
            raise NoVerifiedCard("A paid plan needs a verified default card; add a card first.")
        return card

    def _ensure_hold(self, account: Mapping[str, Any], card: Mapping[str, Any], plan: Plan, key: str) -> None:
        """A hold of the plan's pre-authorization on the card, unless it had one as large."""
        sub = account["sub"]
        existing = self.cards.holds.get(sub, card["hold_id"]) if card.get("hold_id") else None
        if existing is not None and int(existing["amount"]) >= int(plan.hold_amount or 0):
            return
        hold_id = f"hold_{_key(sub, 'plan', key)[:32]}"
        hold = self.cards.holds.get(sub, hold_id)
        if hold is not None and hold["status"] != AUTHORIZING:
            return  # a retry of this request: the hold was placed
        if hold is None:
            hold = new_hold(
                sub=sub,
                hold_id=hold_id,
                plan=plan,
                currency=self.settings.currency,
                customer_id=card["customer_id"],
                payment_method_id=card["payment_method_id"],
                requested_payment_method=card["payment_method_id"],
                fingerprint=card["fingerprint"],
                now=self.clock(),
                release_delay=self.cards.release_delay,
            )
            try:
                self.table.put(hold, ConditionExpression="attribute_not_exists(PK)")
            except ConditionFailed as exc:
                raise ConcurrentUpdate("This request is already being processed.") from exc
        try:
            authorization = self.gateway.authorize(
                hold_id=hold_id,
                account_key=sub,
                customer_id=card["customer_id"],
                payment_method_id=card["payment_method_id"],
                amount=hold["amount"],
                currency=hold["currency"],
            )
        except CardDeclined:
            self.table.delete(hold_key(sub, hold_id))
            raise
        if authorization.status != "authorized":
            # Off the card-adding flow a 3-D Secure challenge cannot be completed: void it.
            self.gateway.release(authorization.payment_intent_id, hold_id=hold_id, attempt=0)
            self.table.delete(hold_key(sub, hold_id))
            raise CardDeclined(
                "The card asks for authentication for the new plan's pre-authorization; add it again.",
                decline_code="authentication_required",
                code="authentication_required",
            )
        try:
            self.table.transact(
                [
                    {
                        "Update": {
                            "Key": marshal(hold_key(sub, hold_id)),
                            "UpdateExpression": "SET #status = :held, payment_intent_id = :pi",
                            "ConditionExpression": "#status = :authorizing",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": values(
                                held=HELD, pi=authorization.payment_intent_id, authorizing=AUTHORIZING
                            ),
                        }
                    },
                    {
                        "Update": {
                            "Key": marshal(card_key(sub, card["payment_method_id"])),
                            "UpdateExpression": "SET hold_id = :hold",
                            "ConditionExpression": "attribute_exists(PK)",
                            "ExpressionAttributeValues": values(hold=hold_id),
                        }
                    },
                ]
            )
        except TransactionCancelled as exc:
            raise ConcurrentUpdate("The card changed while the request ran; retry it.") from exc
        self.cards.scheduler.schedule(sub, hold_id, datetime.fromisoformat(hold["release_at"].replace("Z", "+00:00")))
        logger.info("Plan pre-authorization placed", extra={"hold_id": hold_id, "plan": plan.key})

    # ------------------------------------------------------------------ preview
    def preview(self, caller: Caller, plan_key: str) -> SubscriptionPreview:
        account = self._account(caller.sub)
        target = PLANS[plan_key]
        current = self._live(caller.sub)
        currency = self.settings.currency
        if not target.paid:
            return SubscriptionPreview(
                plan=target.key, effective="period_end", amount_due_now=0, amount_due_at_renewal=0, currency=currency
            )
        new_price = self._price(target)
        customer_id = self.cards.customers.ensure(account)
        if current is None:
            first = self.gateway.preview_invoice(customer_id, price_id=new_price)
            return SubscriptionPreview(
                plan=target.key,
                effective="now",
                amount_due_now=first["amount_due"],
                amount_due_at_renewal=first["amount_due"],
                currency=first["currency"],
            )
        upgrade = ORDER[target.key] > ORDER.get(current["plan"], 0)
        now_due = 0
        if upgrade:
            now_due = self.gateway.preview_invoice(
                customer_id,
                price_id=new_price,
                subscription_id=current["subscription_id"],
                item_id=current["item_id"],
                proration_behavior="always_invoice",
            )["amount_due"]
        renewal = self.gateway.preview_invoice(
            customer_id,
            price_id=new_price,
            subscription_id=current["subscription_id"],
            item_id=current["item_id"],
            proration_behavior="none",
        )
        return SubscriptionPreview(
            plan=target.key,
            effective="now" if upgrade else "period_end",
            amount_due_now=now_due,
            amount_due_at_renewal=renewal["amount_due"],
            currency=renewal["currency"],
        )
