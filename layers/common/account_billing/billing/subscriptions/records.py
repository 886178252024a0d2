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
from account_billing.billing.stripe.results import StripeSchedule, StripeSubscription
from account_billing.core import keys

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


@dataclass(frozen=True, slots=True)
class Subscription:
    sub: str
    subscription_id: str
    customer_id: str
    item_id: str
    price_id: str
    plan: str
    status: SubscriptionStatus
    period_start: int | None
    period_end: int | None
    cancel_at_period_end: bool
    schedule_id: str | None
    scheduled_plan: str | None
    sub_created: int
    synced_at: int

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
    ) -> Subscription:
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
        )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Subscription:
        return cls(
            sub=keys.sub_of(item["PK"]),
            subscription_id=item["subscription_id"],
            customer_id=item["customer_id"],
            item_id=item["item_id"],
            price_id=item["price_id"],
            plan=item["plan"],
            status=SubscriptionStatus(item["status"]),
            period_start=item.get("period_start"),
            period_end=item.get("period_end"),
            cancel_at_period_end=bool(item.get("cancel_at_period_end")),
            schedule_id=item.get("schedule_id"),
            scheduled_plan=item.get("scheduled_plan"),
            sub_created=int(item["sub_created"]),
            synced_at=int(item["synced_at"]),
        )

    def to_item(self) -> dict[str, Any]:
        return {
            **subscription_key(self.sub),
            "entity": "subscription",
            "subscription_id": self.subscription_id,
            "customer_id": self.customer_id,
            "item_id": self.item_id,
            "price_id": self.price_id,
            "plan": self.plan,
            "status": str(self.status),
            "period_start": self.period_start,
            "period_end": self.period_end,
            "cancel_at_period_end": self.cancel_at_period_end,
            "schedule_id": self.schedule_id,
            "scheduled_plan": self.scheduled_plan,
            "sub_created": self.sub_created,
            "synced_at": self.synced_at,
        }
