"""Spending routes: month-to-date spend against the plan's limit (and the alert thresholds it
crossed), the alert thresholds, and requests for a higher limit."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.accounts.store import AccountStore
from account_billing.core.api import caller_of, create_resolver, json_response, responses
from account_billing.core.observability import logger, metrics
from account_billing.core.settings import get_settings
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, per_container
from account_billing.spending.alerts import SpendingAlerts
from account_billing.spending.alerts_models import AlertSettingsRequest, AlertSettingsView, SpendingOverview
from account_billing.spending.alerts_store import AlertStore
from account_billing.spending.models import LimitIncreasePage, LimitIncreaseRequest, LimitIncreaseView
from account_billing.spending.service import SpendingService
from account_billing.spending.store import SpendStore

app = create_resolver()


def _no_publishing(_: dict[str, Any]) -> None:
    raise RuntimeError("the spending routes publish no events")


@per_container
def spending() -> SpendingService:
    table = Table(dynamodb_client(), get_settings().table_name)
    return SpendingService(AccountStore(table), SpendStore(table), publish=_no_publishing)


@per_container
def alerts() -> SpendingAlerts:
    table = Table(dynamodb_client(), get_settings().table_name)

    def no_sending(_: object) -> None:
        raise RuntimeError("the spending routes send nothing")

    return SpendingAlerts(
        AccountStore(table),
        AlertStore(table),
        publish=_no_publishing,
        send=no_sending,
        recipient=lambda _: None,
        web_app_url=get_settings().web_app_url,
    )


@app.get(
    "/v1/billing/spending",
    operation_id="spending.get",
    tags=["Spending"],
    summary="Month-to-date spend against the plan's monthly limit, and the alert thresholds crossed",
    responses=responses(200, SpendingOverview, "This month's spending", 401, 404),
)
def get_spending() -> Response[str]:
    return json_response(alerts().overview(caller_of(app)))


@app.get(
    "/v1/billing/spending/alerts",
    summary="The spending alert thresholds, in % of the month's limit (50, 80, 100 unless changed)",
    operation_id="spending.getAlerts",
    tags=["Spending"],
    responses=responses(200, AlertSettingsView, "The thresholds", 401, 404),
)
def get_alerts() -> Response[str]:
    return json_response(alerts().settings(caller_of(app)))


@app.put(
    "/v1/billing/spending/alerts",
    summary="Choose the spending alert thresholds: each emailed to the billing email at most once a month",
    operation_id="spending.replaceAlerts",
    tags=["Spending"],
    responses=responses(200, AlertSettingsView, "The thresholds now", 400, 401, 404, 409, 422),
)
def replace_alerts(request: AlertSettingsRequest) -> Response[str]:
    return json_response(alerts().replace(caller_of(app), request.thresholds))


@app.post(
    "/v1/billing/spending-limit-requests",
    operation_id="spending.requestLimitIncrease",
    tags=["Spending"],
    summary="Ask for a higher monthly spending limit",
    responses=responses(201, LimitIncreaseView, "Recorded; we will be in touch", 401, 404, 409, 422),
)
def request_limit_increase(request: LimitIncreaseRequest) -> Response[str]:
    return json_response(spending().request_increase(caller_of(app), request), status=201)


@app.get(
    "/v1/billing/spending-limit-requests",
    operation_id="spending.listLimitIncreaseRequests",
    tags=["Spending"],
    summary="The account's limit-increase requests, newest first",
    responses=responses(200, LimitIncreasePage, "A page of requests", 400, 401, 422),
)
def list_limit_requests(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[str]:
    return json_response(spending().limit_requests(caller_of(app), limit, cursor))


@resumes_collection
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
