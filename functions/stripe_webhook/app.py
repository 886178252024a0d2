"""Stripe's webhook (`POST /v1/webhooks/stripe`, no JWT: Stripe signs each delivery).

The signature is checked with stripe-python's own helper over the raw body, with the endpoint's
signing secret from SSM (cached) and a tolerance on the signed timestamp (an old delivery,
replayed, is refused). Each event is applied once (`billing.webhooks`). Answers: 200 when the
event is applied, ignored or a duplicate; 400 for a bad signature; 5xx when applying it failed
(Stripe delivers it again later).
"""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.billing.context import billing_context
from account_billing.billing.notices import PaymentNotices, billing_recipient
from account_billing.billing.settings import billing_settings
from account_billing.billing.stripe.webhooks import InvalidWebhook, signing_secret, verify_webhook
from account_billing.billing.webhooks.errors import EventInProgress, InvalidWebhookSignature
from account_billing.billing.webhooks.service import StripeEvents
from account_billing.core.api import create_resolver, responses
from account_billing.core.observability import logger, metrics
from account_billing.core.settings import get_settings, required
from account_billing.core.wiring import per_container, sesv2_client
from account_billing.emails.mailer import SesMailer

if TYPE_CHECKING:
    from account_billing.billing.cards.service import CardService

app = create_resolver()


@per_container
def cards() -> CardService:
    # Only events about cards and holds need it: invoices and subscriptions, most deliveries, do not.
    from account_billing.billing.cards.service import CardService  # noqa: PLC0415

    return CardService(billing_context())


@per_container
def events() -> StripeEvents:
    context = billing_context()
    settings = get_settings()
    mailer = SesMailer(sesv2_client, required(settings.email_from, "EMAIL_FROM"), settings.email_configuration_set)
    notices = PaymentNotices(mailer, billing_recipient(context.accounts, context.billing_details), settings.web_app_url)
    return StripeEvents(context, cards, notices)


# No request validation: the route takes no parameters, and Stripe's signature over the raw
# body is the check (`verify_webhook`); validating would only cost the cold start its work.
@app.post(
    "/v1/webhooks/stripe",
    operation_id="webhooks.receiveStripeEvent",
    tags=["Webhooks"],
    enable_validation=False,
    summary="Stripe's events (signed by Stripe; no JWT)",
    responses=responses(200, None, "Applied, ignored or already applied", 400, 503),
)
def receive() -> Response[str]:
    event = app.current_event
    signature = event.headers.get("stripe-signature")
    if not signature:
        raise InvalidWebhookSignature("The Stripe-Signature header is missing.")
    settings = billing_settings()
    try:
        verified = verify_webhook(
            event.decoded_body or "", signature, signing_secret(settings), settings.webhook_tolerance_seconds
        )
    except InvalidWebhook as exc:
        metrics.add_metric(name="StripeWebhookRejected", unit="Count", value=1)
        raise InvalidWebhookSignature("The Stripe signature does not verify, or the delivery is too old.") from exc
    outcome = events().handle(verified)
    if outcome == "in_progress":
        raise EventInProgress("This event is being applied by another delivery; retry later.")
    metrics.add_metric(name="StripeEvent", unit="Count", value=1)
    return Response(200, content_type="application/json", body=f'{{"received": true, "outcome": "{outcome}"}}')


@resumes_collection
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
