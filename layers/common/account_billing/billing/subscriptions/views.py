"""What callers see of plans and the account's subscription (pure)."""

from __future__ import annotations

from account_billing.billing.plans import FREE_PLAN, PLANS, plan_of
from account_billing.billing.settings import BillingSettings
from account_billing.billing.subscriptions.models import PlanList, PlanView, ScheduledChange, SubscriptionView
from account_billing.billing.subscriptions.records import Subscription
from account_billing.core.clock import from_epoch


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


def subscription_view(record: Subscription | None) -> SubscriptionView:
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
    plan = plan_of(record.plan_in_effect)
    live = record.live
    end = from_epoch(record.period_end) if record.period_end is not None else None
    change = None
    if live and record.cancel_at_period_end:
        change = ScheduledChange(kind="cancellation", plan=FREE_PLAN.key, effective_at=end)
    elif live and record.scheduled_plan:
        change = ScheduledChange(kind="downgrade", plan=record.scheduled_plan, effective_at=end)
    start = from_epoch(record.period_start) if record.period_start is not None else None
    return SubscriptionView(
        plan=plan.key,
        plan_name=plan.name,
        status=record.status.value,
        current_period_start=start if live else None,
        current_period_end=end if live else None,
        scheduled_change=change,
        spending_limit=plan.monthly_spending_limit,
        amount_due=record.amount_due if live else None,
        due_since=from_epoch(record.due_since) if live and record.due_since else None,
        due_invoice_id=record.due_invoice_id if live else None,
    )
