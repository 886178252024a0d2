"""Spending routes: month-to-date spend against the plan's limit, and requests for a higher limit."""

from __future__ import annotations

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
from account_billing.spending.models import LimitIncreasePage, LimitIncreaseRequest, LimitIncreaseView, SpendingView
from account_billing.spending.service import SpendingService
from account_billing.spending.store import SpendStore

app = create_resolver()


def _no_publishing(_: dict[str, Any]) -> None:
    raise RuntimeError("the spending routes publish no events")


@per_container
def spending() -> SpendingService:
    table = Table(dynamodb_client(), get_settings().table_name)
    return SpendingService(AccountStore(table), SpendStore(table), publish=_no_publishing)


@app.get(
    "/v1/billing/spending",
    operation_id="spending.get",
    tags=["Spending"],
    summary="Month-to-date spend against the plan's monthly limit",
    responses=responses(200, SpendingView, "This month's spending", 401, 404),
)
def get_spending() -> Response[str]:
    return json_response(spending().view(caller_of(app)))


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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
