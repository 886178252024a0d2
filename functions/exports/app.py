"""Data export routes: start an export of the caller's account data, and show one (its progress
and, once ready, a short-lived download link). The export function builds it."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.core.api import IdempotencyKey, caller_of, create_resolver, json_response, responses
from account_billing.core.observability import logger, metrics
from account_billing.core.settings import get_settings
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, per_container
from account_billing.exports.models import ExportView
from account_billing.exports.service import ExportService
from account_billing.exports.wiring import export_service

app = create_resolver()

ExportId = Annotated[str, Path(pattern=r"^exp_[0-9a-f]{24}$", max_length=28)]


@per_container
def exports() -> ExportService:
    return export_service(Table(dynamodb_client(), get_settings().table_name))


@app.post(
    "/v1/account/exports",
    summary="Export the account's data: one ZIP (profile, emails, avatar, cards, billing, activity), built "
    "in the background; an email says when it is ready. One runs at a time, a few a day",
    operation_id="exports.start",
    tags=["Account"],
    responses=responses(
        202, ExportView, "Started (or, for a retried request, the export it started)", 401, 404, 409, 422, 429
    ),
)
def start_export(idempotency_key: IdempotencyKey) -> Response[str]:
    view, _ = exports().start(caller_of(app), idempotency_key)
    return json_response(view, status=202, headers={"Location": f"/v1/account/exports/{view.id}"})


@app.get(
    "/v1/account/exports/<export_id>",
    summary="An export: its progress and, once ready, a download link that works for a few minutes",
    operation_id="exports.get",
    tags=["Account"],
    responses=responses(200, ExportView, "The export", 401, 404, 422),
)
def get_export(export_id: ExportId) -> Response[str]:
    return json_response(exports().view(caller_of(app), export_id))


@resumes_collection
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
