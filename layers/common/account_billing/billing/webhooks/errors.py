"""Errors of Stripe's webhook deliveries."""

from __future__ import annotations

from account_billing.core.errors import ServiceError


class InvalidWebhookSignature(ServiceError):
    """A webhook delivery whose Stripe-Signature does not verify, or is too old."""

    status = 400
    kind = "invalid-signature"
    title = "The Stripe signature does not verify"


class EventInProgress(ServiceError):
    """Another delivery of the same event is being applied: Stripe delivers it again later."""

    status = 503
    kind = "event-in-progress"
    title = "The event is being applied"
