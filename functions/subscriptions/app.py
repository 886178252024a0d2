"""Plan routes: the plans (public), the account's subscription, moving to a plan, undoing a
scheduled change, and what a change would cost."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.billing.context import billing_context
from account_billing.billing.details.models import BillingDetailsRequest, BillingDetailsView
from account_billing.billing.details.service import BillingDetailsService, idempotent_replace
from account_billing.billing.idempotency import idempotency, idempotency_table_name, idempotent_change
from account_billing.billing.settings import billing_settings
from account_billing.billing.subscriptions.models import (
    ChangePlanRequest,
    PlanList,
    PlanName,
    SubscriptionPreview,
    SubscriptionView,
)
from account_billing.billing.subscriptions.service import SubscriptionService
from account_billing.billing.subscriptions.views import plan_list
from account_billing.core.api import IdempotencyKey, caller_of, create_resolver, json_response, responses
from account_billing.core.http import etag_for, versions_matching
from account_billing.core.observability import logger, metrics
from account_billing.core.wiring import dynamodb_client, per_container

app = create_resolver()


@per_container
def subscriptions() -> SubscriptionService:
    return SubscriptionService(billing_context())


@per_container
def change_once() -> Any:
    return idempotent_change(
        subscriptions(), billing_context().accounts, idempotency_table_name(), idempotency(), dynamodb_client()
    )


@app.get(
    "/v1/plans",
    operation_id="plans.list",
    tags=["Subscription"],
    summary="The plans: monthly price, spending limit and card pre-authorization (public)",
    responses=responses(200, PlanList, "The plans"),
)
def list_plans() -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=plan_list(billing_settings()).model_dump_json(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@app.get(
    "/v1/billing/subscription",
    operation_id="subscription.get",
    tags=["Subscription"],
    summary="The account's plan, subscription status, current period and any scheduled change",
    responses=responses(200, SubscriptionView, "The subscription", 401, 404),
)
def get_subscription() -> Response[str]:
    return json_response(subscriptions().view(caller_of(app)))


@app.put(
    "/v1/billing/subscription",
    operation_id="subscription.change",
    tags=["Subscription"],
    summary="Move to a plan: upgrades at once (prorated), downgrades and Community at the period end",
    responses=responses(200, SubscriptionView, "The subscription now", 400, 401, 402, 404, 409, 422, 503),
)
def change_plan(request: ChangePlanRequest, idempotency_key: IdempotencyKey) -> Response[str]:
    cancellation = request.cancellation.model_dump(mode="json") if request.cancellation else None
    return json_response(change_once()(caller_of(app), request.plan, idempotency_key, cancellation))


@app.delete(
    "/v1/billing/subscription/scheduled-change",
    operation_id="subscription.undoScheduledChange",
    tags=["Subscription"],
    summary="Undo a scheduled downgrade or cancellation",
    responses=responses(200, SubscriptionView, "The subscription now", 401, 404, 503),
)
def undo_scheduled_change() -> Response[str]:
    return json_response(subscriptions().undo_scheduled_change(caller_of(app)))


@app.get(
    "/v1/billing/subscription/preview",
    operation_id="subscription.preview",
    tags=["Subscription"],
    summary="What moving to a plan costs: the amount due now and at renewal (Stripe's invoice preview)",
    responses=responses(200, SubscriptionPreview, "The amounts, in cents", 401, 404, 422, 503),
)
def preview(plan: Annotated[PlanName, Query(description="The plan to move to")]) -> Response[str]:
    return json_response(subscriptions().preview(caller_of(app), plan))


@per_container
def billing_details() -> BillingDetailsService:
    return BillingDetailsService(billing_context())


@per_container
def replace_details_once() -> Any:
    return idempotent_replace(billing_details(), idempotency_table_name(), idempotency(), dynamodb_client())


IfMatch = Annotated[
    str | None, Header(alias="if-match", description='The ETag of the billing details as last read, e.g. "v3"')
]


@app.get(
    "/v1/billing/details",
    summary="The billing details invoices show: name, company, postal address, tax IDs, billing email",
    operation_id="invoices.getBillingDetails",
    tags=["Invoices"],
    responses=responses(200, BillingDetailsView, "The billing details (ETag: their version)", 401, 404),
)
def get_billing_details() -> Response[str]:
    view, version = billing_details().get(caller_of(app))
    return json_response(view, headers={"ETag": etag_for(version)})


@app.put(
    "/v1/billing/details",
    summary="Replace the billing details (kept on the Stripe customer; shown on invoices from now on)",
    operation_id="invoices.replaceBillingDetails",
    tags=["Invoices"],
    responses=responses(200, BillingDetailsView, "The billing details now", 400, 401, 404, 409, 412, 422, 503),
)
def replace_billing_details(
    request: BillingDetailsRequest, idempotency_key: IdempotencyKey, if_match: IfMatch = None
) -> Response[str]:
    view, version = replace_details_once()(caller_of(app), request, versions_matching(if_match), idempotency_key)
    return json_response(view, headers={"ETag": etag_for(version)})


@resumes_collection
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency().register_lambda_context(context)
    return app.resolve(event, context)
