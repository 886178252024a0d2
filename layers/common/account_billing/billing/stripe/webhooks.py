"""The signature of Stripe's webhook deliveries, checked with stripe-python's own helper over the
raw body, with the endpoint's signing secret from SSM Parameter Store (cached)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe

from account_billing.billing.stripe.results import StripeEvent
from account_billing.core.settings import required
from account_billing.core.wiring import ssm_parameters

if TYPE_CHECKING:
    from account_billing.billing.settings import BillingSettings

SECRET_MAX_AGE = 300  # seconds the signing secret stays cached


class InvalidWebhook(Exception):
    """A webhook delivery whose signature does not verify, or is too old (replayed)."""


def verify_webhook(payload: str, signature: str, secret: str, tolerance: int) -> StripeEvent:
    """The event of a webhook delivery, checked with stripe-python's own signature helper
    (HMAC-SHA256 over the raw body, timestamp within `tolerance` seconds)."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise InvalidWebhook(str(exc)) from exc
    return StripeEvent.from_dict(event.to_dict())


def signing_secret(settings: BillingSettings) -> str:
    """The webhook endpoint's signing secret (whsec_...)."""
    name = required(settings.stripe_webhook_secret_parameter, "STRIPE_WEBHOOK_SECRET_PARAMETER")
    secret = ssm_parameters().get(name, decrypt=True, max_age=SECRET_MAX_AGE)
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise RuntimeError("the webhook secret parameter does not hold a signing secret")
    return secret
