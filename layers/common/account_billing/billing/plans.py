"""The plans of DESIGN §5 and the card pre-authorization each one takes. Amounts are in cents.

Monthly prices and Stripe Price ids are configuration (`BillingSettings.plan_price_ids`), not
code; the spending limits and hold amounts are the product's rules, stated here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

PlanKey = Literal["community", "developer", "essential", "professional"]
PaidPlanKey = Literal["developer", "essential", "professional"]


@dataclass(frozen=True, slots=True)
class Plan:
    key: PlanKey
    name: str
    monthly_spending_limit: int | None  # None: no spending (free)
    hold_amount: int | None  # the card pre-authorization; None: no card needed

    @property
    def paid(self) -> bool:
        return self.hold_amount is not None


PLANS: dict[str, Plan] = {
    plan.key: plan
    for plan in (
        Plan("community", "Community", None, None),
        Plan("developer", "Developer", 100_00, 50_00),
        Plan("essential", "Essential", 100_00, 100_00),
        Plan("professional", "Professional", 500_00, 500_00),
    )
}
DEFAULT_HOLD_PLAN = PLANS["developer"]
FREE_PLAN = PLANS["community"]


def plan_of(key: str | None) -> Plan:
    """The plan stored on an account (absent or unknown: the free plan)."""
    return PLANS.get(key or "", FREE_PLAN)


def hold_plan(current: str | None) -> Plan:
    """Whose pre-authorization a new card gets: the account's current paid plan, else Developer.
    Never the caller's choice: moving to a larger plan places that plan's hold itself."""
    plan = plan_of(current)
    return plan if plan.paid else DEFAULT_HOLD_PLAN


def price_id(plan: Plan, configured: Mapping[str, str]) -> str:
    """The Stripe Price of a paid plan in this stage's configuration."""
    if not plan.paid or plan.key not in configured:
        raise LookupError(f"no Stripe Price configured for the {plan.name} plan")
    return configured[plan.key]
