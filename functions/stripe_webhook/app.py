"""Stripe's webhook (`POST /v1/webhooks/stripe`, no JWT: Stripe signs each delivery).

The signature is checked with stripe-python's own helper over the raw body, with the endpoint's
signing secret from SSM (cached) and a tolerance on the signed timestamp (an old delivery,
replayed, is refused). Each event is applied once (`webhook_events.py`). Answers: 200 when the
event is applied, ignored or a duplicate; 400 for a bad signature; 5xx when applying it failed
(Stripe delivers it again later).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.api import create_resolver, responses
from account_billing.billing.cards import PaymentMethodService
from account_billing.billing.gateway import InvalidWebhook, gateway_for, verify_webhook
from account_billing.billing.mirror import Mirror
from account_billing.billing.scheduling import ReleaseScheduler
from account_billing.billing.settings import billing_settings
from account_billing.billing.webhook_events import StripeEvents
from account_billing.data.table import Table
from account_billing.errors import EventInProgress, InvalidWebhookSignature
from account_billing.observability import logger, metrics
from account_billing.settings import get_settings
from account_billing.wiring import AWS_CLIENT_CONFIG, dynamodb_client, per_container

app = create_resolver()
SECRET_MAX_AGE = 300  # seconds the signing secret stays cached


@per_container
def events() -> StripeEvents:
    settings = billing_settings()
    table = Table(dynamodb_client(), get_settings().table_name)
    cards = PaymentMethodService(
        table,
        gateway_for(settings),
        ReleaseScheduler.from_settings(boto3.client("scheduler", config=AWS_CLIENT_CONFIG), settings),
        currency=settings.currency,
        release_delay=timedelta(minutes=settings.hold_release_delay_minutes),
    )
    return StripeEvents(cards, Mirror(table, settings.plan_price_ids))


def signing_secret() -> str:
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    name = billing_settings().stripe_webhook_secret_parameter
    if not name:
        raise RuntimeError("STRIPE_WEBHOOK_SECRET_PARAMETER is not set")
    secret = parameters.get_parameter(name, decrypt=True, max_age=SECRET_MAX_AGE)
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise RuntimeError("the webhook secret parameter does not hold a signing secret")
    return secret


@app.post(
    "/v1/webhooks/stripe",
    summary="Stripe's events (signed by Stripe; no JWT)",
    responses=responses(200, None, "Applied, ignored or already applied", 400, 503),
)
def receive() -> Response[str]:
    event = app.current_event
    signature = event.headers.get("stripe-signature")
    if not signature:
        raise InvalidWebhookSignature("The Stripe-Signature header is missing.")
    try:
        verified = verify_webhook(
            event.decoded_body or "", signature, signing_secret(), billing_settings().webhook_tolerance_seconds
        )
    except InvalidWebhook as exc:
        metrics.add_metric(name="StripeWebhookRejected", unit="Count", value=1)
        raise InvalidWebhookSignature("The Stripe signature does not verify, or the delivery is too old.") from exc
    outcome = events().handle(verified)
    if outcome == "in_progress":
        raise EventInProgress("This event is being applied by another delivery; retry later.")
    metrics.add_metric(name="StripeEvent", unit="Count", value=1)
    return Response(200, content_type="application/json", body=f'{{"received": true, "outcome": "{outcome}"}}')


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
