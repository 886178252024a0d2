"""Card routes: collect a card (SetupIntent), add it with its pre-authorization hold, list the
cards, verify one again, choose the default, remove one."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.billing.cards.models import (
    PAYMENT_METHOD_ID,
    AddPaymentMethodRequest,
    CardAdded,
    PaymentMethodList,
    SetupIntentView,
)
from account_billing.billing.cards.reverify import CardReverification
from account_billing.billing.cards.service import CardService
from account_billing.billing.context import billing_context
from account_billing.billing.idempotency import (
    Replayable,
    idempotency,
    idempotency_table_name,
    idempotent_add,
    idempotent_reverify,
)
from account_billing.core.api import IdempotencyKey, caller_of, create_resolver, json_response, no_content, responses
from account_billing.core.identity import Caller
from account_billing.core.observability import logger, metrics
from account_billing.core.recent_sign_in import documented, recently_signed_in
from account_billing.core.wiring import dynamodb_client, per_container

app = create_resolver()

PaymentMethodIdPath = Annotated[str, Path(pattern=PAYMENT_METHOD_ID, max_length=253)]


@per_container
def payment_methods() -> CardService:
    return CardService(billing_context())


@per_container
def add_card_once() -> Any:
    return idempotent_add(
        payment_methods(), billing_context().accounts, idempotency_table_name(), idempotency(), dynamodb_client()
    )


@per_container
def reverify_once() -> Any:
    return idempotent_reverify(
        CardReverification(billing_context()),
        billing_context().accounts,
        idempotency_table_name(),
        idempotency(),
        dynamodb_client(),
    )


@app.post(
    "/v1/billing/setup-intent",
    operation_id="cards.createSetupIntent",
    tags=["Cards"],
    summary="A SetupIntent's client secret, for Stripe.js to collect a card (card numbers never reach this API)",
    responses=responses(200, SetupIntentView, "The client secret", 401, 404, 429, 503),
)
def setup_intent() -> Response[str]:
    return json_response(payment_methods().setup_intent(caller_of(app)))


@app.post(
    "/v1/billing/payment-methods",
    operation_id="cards.add",
    tags=["Cards"],
    summary="Add a card: attach it and verify it with a temporary hold of the account's plan's pre-authorization "
    "(cards tried and declined, cards kept and holds open are limited per account: 409, 429)",
    responses={
        **responses(
            201,
            CardAdded,
            "The card is verified; the hold is placed and will be released",
            400,
            401,
            402,
            404,
            409,
            422,
            429,
            503,
        ),
        202: {
            "description": "3-D Secure needed: finish it with client_secret in the browser",
            "content": {"application/json": {"model": CardAdded}},
        },
    },
)
def add_payment_method(request: AddPaymentMethodRequest, idempotency_key: IdempotencyKey) -> Response[str]:
    caller: Caller = caller_of(app)
    answer: Replayable = add_card_once()(caller, request, idempotency_key)
    return json_response(CardAdded.model_validate(answer.body), status=answer.status)


@app.get(
    "/v1/billing/payment-methods",
    operation_id="cards.list",
    tags=["Cards"],
    summary="The account's cards: brand, last 4 digits, expiry, default, verification and hold",
    responses=responses(200, PaymentMethodList, "The cards", 401, 404),
)
def list_payment_methods() -> Response[str]:
    return json_response(payment_methods().list(caller_of(app)))


@app.put(
    "/v1/billing/payment-methods/<payment_method_id>/default",
    operation_id="cards.setDefault",
    tags=["Cards"],
    summary="Make a verified card the default",
    responses=responses(204, None, "It is the default now", 401, 404, 409, 422, 503),
)
def set_default(payment_method_id: PaymentMethodIdPath) -> Response[None]:
    payment_methods().set_default(caller_of(app), payment_method_id)
    return no_content()


@app.post(
    "/v1/billing/payment-methods/<payment_method_id>/verification",
    operation_id="cards.retryVerification",
    tags=["Cards"],
    summary="Verify a card again with a new hold: one waiting for 3-D Secure or whose authentication failed",
    responses={
        **responses(
            201,
            CardAdded,
            "The card is verified; its previous hold is released, the new one will be",
            400,
            401,
            402,
            404,
            409,
            422,
            503,
        ),
        202: {
            "description": "3-D Secure needed again: finish it with client_secret in the browser",
            "content": {"application/json": {"model": CardAdded}},
        },
    },
)
def retry_verification(payment_method_id: PaymentMethodIdPath, idempotency_key: IdempotencyKey) -> Response[str]:
    answer: Replayable = reverify_once()(caller_of(app), payment_method_id, idempotency_key)
    return json_response(CardAdded.model_validate(answer.body), status=answer.status)


@app.delete(
    "/v1/billing/payment-methods/<payment_method_id>",
    operation_id="cards.remove",
    tags=["Cards"],
    summary="Remove a card (not the default while a paid plan needs it and no other verified card exists)",
    responses=documented(responses(204, None, "Removed", 401, 404, 409, 422, 503)),
)
def remove(payment_method_id: PaymentMethodIdPath) -> Response[None]:
    payment_methods().remove(recently_signed_in(app), payment_method_id)
    return no_content()


@resumes_collection
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency().register_lambda_context(context)
    return app.resolve(event, context)
