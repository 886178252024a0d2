"""The signature of Stripe's webhook deliveries, checked with stripe-python's own helper over the
raw body, with the endpoint's signing secret from SSM Parameter Store (cached)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import stripe

from account_billing.billing.stripe.results import StripeEvent
from account_billing.core.settings import required
from account_billing.core.wiring import ssm_parameters

if TYPE_CHECKING:
    from account_billing.billing.settings import BillingSettings

SECRET_MAX_AGE = 300  # seconds the signing secret stays cached


class InvalidWebhook(Exception):
    """A webhook delivery whose signature does not verify, or whose timestamp is too old
    (replayed) or too far in the future."""


def signed_at(signature: str) -> int | None:
    """The timestamp (`t=`) a `Stripe-Signature` header names, if it names one."""
    for element in signature.split(","):
        name, _, value = element.strip().partition("=")
        if name == "t":
            return int(value) if value.isascii() and value.isdigit() else None
    return None


def verify_webhook(payload: str, signature: str, secret: str, tolerance: int) -> StripeEvent:
    """The event of a webhook delivery, checked with stripe-python's own signature helper
    (HMAC-SHA256 over the raw body, timestamp at most `tolerance` seconds old), and its
    timestamp at most `tolerance` seconds ahead of this clock too: stripe-python bounds only
    old ones, and a delivery signed for the future would stay replayable until then.

    The verified body is read as the JSON it is, as `Webhook.construct_event` reads it before
    building stripe-python's typed objects from it: those only coerce fields this service never
    reads from an event (decimal strings), and building them cost a webhook's cold start about
    25 ms of CPU."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise InvalidWebhook(str(exc)) from exc
    timestamp = signed_at(signature)
    if timestamp is None or timestamp > time.time() + tolerance:
        raise InvalidWebhook("the signature's timestamp is in the future")
    return StripeEvent.from_dict(event)


def signing_secret(settings: BillingSettings) -> str:
    """The webhook endpoint's signing secret (whsec_...)."""
    name = required(settings.stripe_webhook_secret_parameter, "STRIPE_WEBHOOK_SECRET_PARAMETER")
    secret = ssm_parameters().get(name, decrypt=True, max_age=SECRET_MAX_AGE)
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise RuntimeError("the webhook secret parameter does not hold a signing secret")
    return secret
