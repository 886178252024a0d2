"""Errors of plans and subscriptions."""

from __future__ import annotations

from account_billing.core.errors import ServiceError


class NoVerifiedCard(ServiceError):
    """A paid plan needs a verified default card."""

    status = 409
    kind = "no-verified-card"
    title = "A verified default card is needed"


class NoScheduledChange(ServiceError):
    status = 404
    kind = "no-scheduled-change"
    title = "No change is scheduled"


class PlanNotAvailable(ServiceError):
    """The plan has no Stripe Price configured in this stage."""

    status = 422
    kind = "plan-not-available"
    title = "The plan is not available"
