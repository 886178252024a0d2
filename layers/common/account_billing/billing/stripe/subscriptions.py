"""Subscriptions at Stripe: subscribing, changing the Price now (prorated) or at the period end (a
SubscriptionSchedule), cancelling at the period end, and reading them back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe

from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.errors import RESOURCE_MISSING, unless_refused_with
from account_billing.billing.stripe.results import CancellationReason, StripeSchedule, StripeSubscription

if TYPE_CHECKING:
    from stripe.params import SubscriptionScheduleUpdateParams, SubscriptionUpdateParams


def _subscription(obj: stripe.Subscription) -> StripeSubscription:
    return StripeSubscription.from_dict(obj.to_dict())


class Subscriptions:
    def __init__(self, api: StripeApi) -> None:
        self.api = api

    def of_customer(self, customer_id: str) -> list[StripeSubscription]:
        """The customer's subscriptions that have not ended, as Stripe has them now."""
        page = self.api.call(lambda c: c.v1.subscriptions.list({"customer": customer_id, "limit": 10}))
        return [_subscription(item) for item in page.data]

    def ids_of(self, customer_id: str) -> list[str]:
        page = self.api.call(lambda c: c.v1.subscriptions.list({"customer": customer_id, "limit": 100}))
        return [subscription.id for subscription in page.data]

    def retrieve(self, subscription_id: str) -> StripeSubscription:
        return _subscription(self.api.call(lambda c: c.v1.subscriptions.retrieve(subscription_id)))

    def create(
        self, *, customer_id: str, price_id: str, account_key: str, payment_method_id: str, idempotency_key: str
    ) -> StripeSubscription:
        """Subscribe; the first invoice is paid at once with the card or nothing is created (402)."""
        return _subscription(
            self.api.call(
                lambda c: c.v1.subscriptions.create(
                    {
                        "customer": customer_id,
                        "items": [{"price": price_id}],
                        "default_payment_method": payment_method_id,
                        "payment_behavior": "error_if_incomplete",
                        "metadata": {"account": account_key},
                    },
                    {"idempotency_key": idempotency_key},
                )
            )
        )

    def change_price(
        self, subscription_id: str, item_id: str, price_id: str, payment_method_id: str, idempotency_key: str
    ) -> StripeSubscription:
        """Change the Price now, the proration invoiced and paid at once (402: nothing changes)."""
        return _subscription(
            self.api.call(
                lambda c: c.v1.subscriptions.update(
                    subscription_id,
                    {
                        "items": [{"id": item_id, "price": price_id}],
                        "proration_behavior": "always_invoice",
                        "payment_behavior": "error_if_incomplete",
                        "default_payment_method": payment_method_id,
                        "cancel_at_period_end": False,
                    },
                    {"idempotency_key": idempotency_key},
                )
            )
        )

    def set_cancel_at_period_end(
        self, subscription_id: str, cancel: bool, idempotency_key: str, reason: CancellationReason | None = None
    ) -> StripeSubscription:
        """Cancel at the period end (or no longer); `reason`: the customer's feedback and comment,
        recorded in the subscription's `cancellation_details`."""
        params: SubscriptionUpdateParams = {"cancel_at_period_end": cancel}
        if reason is not None:
            params["cancellation_details"] = {"feedback": reason.feedback or "", "comment": reason.comment or ""}
        return _subscription(
            self.api.call(
                lambda c: c.v1.subscriptions.update(subscription_id, params, {"idempotency_key": idempotency_key})
            )
        )

    def cancel(self, subscription_id: str) -> None:
        """Cancel at once; gone already is fine."""
        with unless_refused_with(RESOURCE_MISSING):
            self.api.call(lambda c: c.v1.subscriptions.cancel(subscription_id))

    # ------------------------------------------------------------------ schedules
    def schedule(self, schedule_id: str) -> StripeSchedule:
        return StripeSchedule.from_dict(
            self.api.call(lambda c: c.v1.subscription_schedules.retrieve(schedule_id)).to_dict()
        )

    def schedule_price_change(
        self, subscription_id: str, current_price: str, new_price: str, idempotency_key: str
    ) -> StripeSchedule:
        """A SubscriptionSchedule: the current Price until the period ends, then `new_price`."""
        schedule = self.api.call(
            lambda c: c.v1.subscription_schedules.create(
                {"from_subscription": subscription_id}, {"idempotency_key": f"{idempotency_key}-schedule"}
            )
        )
        phase = schedule.phases[0]
        params: SubscriptionScheduleUpdateParams = {
            "phases": [
                {"items": [{"price": current_price}], "start_date": phase.start_date, "end_date": phase.end_date},
                {"items": [{"price": new_price}], "duration": {"interval": "month", "interval_count": 1}},
            ],
            "end_behavior": "release",
        }
        updated = self.api.call(
            lambda c: c.v1.subscription_schedules.update(
                schedule.id, params, {"idempotency_key": f"{idempotency_key}-phases"}
            )
        )
        return StripeSchedule.from_dict(updated.to_dict())

    def release_schedule(self, schedule_id: str) -> None:
        """Detach a schedule from its subscription (the subscription stays as it is now). A
        schedule that no longer changes anything (released, cancelled, completed) is left be."""
        try:
            self.api.call(lambda c: c.v1.subscription_schedules.release(schedule_id))
        except stripe.InvalidRequestError:
            if self.schedule(schedule_id).pending:
                raise
