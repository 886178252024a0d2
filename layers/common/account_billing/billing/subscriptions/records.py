"""The account's subscription as stored (`ACCOUNT#<sub>` / `SUBSCRIPTION`): a copy of Stripe's,
written from what Stripe answers right now (an API answer, or a webhook event's object fetched
again), with `synced_at` saying when it was read from Stripe."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from account_billing.billing.plans import FREE_PLAN, PLANS
from account_billing.billing.stripe.results import StripeInvoice, StripeSchedule, StripeSubscription
from account_billing.core import keys
from account_billing.core.records import from_item, to_item

SUBSCRIPTION = "SUBSCRIPTION"


class SubscriptionStatus(StrEnum):
    """Stripe's subscription statuses (stripe-python's `Subscription.status`)."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


# The statuses in which a subscription is the account's plan.
LIVE = frozenset(
    {SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.TRIALING, SubscriptionStatus.UNPAID}
)


def is_live(status: str) -> bool:
    """Whether a subscription in `status` is the account's plan."""
    return status in LIVE


def read_time() -> int:
    """When a state was read from Stripe, in microseconds (orders two reads of one object)."""
    return time.time_ns() // 1000


def subscription_key(sub: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": SUBSCRIPTION}


def plan_for_price(price_id: str | None, price_ids: Mapping[str, str]) -> str:
    return next((plan for plan, price in price_ids.items() if price == price_id), FREE_PLAN.key)


UNPAID_STATUSES = frozenset({SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID})


def _due(stripe_sub: StripeSubscription, invoice: StripeInvoice | None) -> dict[str, Any]:
    if invoice is None or stripe_sub.status not in UNPAID_STATUSES or invoice.status != "open":
        return {}
    return {"due_invoice_id": invoice.id, "amount_due": invoice.amount_remaining, "due_since": invoice.created}


@dataclass(frozen=True, slots=True)
class Subscription:
    sub: str
    subscription_id: str
    customer_id: str
    item_id: str
    price_id: str
    plan: str
    status: SubscriptionStatus
    cancel_at_period_end: bool
    sub_created: int
    synced_at: int
    period_start: int | None = None
    period_end: int | None = None
    schedule_id: str | None = None
    scheduled_plan: str | None = None
    # what is due while a renewal is unpaid (past_due, unpaid): the open invoice, since when
    due_invoice_id: str | None = None
    amount_due: int | None = None
    due_since: int | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def plan_in_effect(self) -> str:
        return self.plan if self.live and self.plan in PLANS else FREE_PLAN.key

    @classmethod
    def from_stripe(
        cls,
        sub: str,
        stripe_sub: StripeSubscription,
        schedule: StripeSchedule | None,
        price_ids: Mapping[str, str],
        synced_at: int,
        *,
        due: StripeInvoice | None = None,
    ) -> Subscription:
        """`due`: the subscription's latest invoice, when it is unpaid."""
        end = stripe_sub.current_period_end
        scheduled_plan = None
        if schedule is not None and schedule.pending:
            for phase in schedule.phases:
                if end is not None and phase.start_date >= end and phase.price_id != stripe_sub.price_id:
                    scheduled_plan = plan_for_price(phase.price_id, price_ids)
                    break
        return cls(
            sub=sub,
            subscription_id=stripe_sub.id,
            customer_id=stripe_sub.customer_id,
            item_id=stripe_sub.item_id,
            price_id=stripe_sub.price_id,
            plan=plan_for_price(stripe_sub.price_id, price_ids),
            status=SubscriptionStatus(stripe_sub.status),
            period_start=stripe_sub.current_period_start,
            period_end=end,
            cancel_at_period_end=stripe_sub.cancel_at_period_end,
            schedule_id=stripe_sub.schedule_id,
            scheduled_plan=scheduled_plan,
            sub_created=stripe_sub.created,
            synced_at=synced_at,
            **_due(stripe_sub, due),
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Subscription:
        return from_item(cls, item, sub=keys.sub_of(item["PK"]))

    def to_item(self) -> dict[str, Any]:
        return to_item(self, subscription_key(self.sub), "subscription", leave_out=("sub",))
