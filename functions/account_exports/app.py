"""Builds account data exports (`POST /v1/account/exports` queues them): one SQS message per
export (or continuation of one), one at a time. A run that fails is retried by SQS from the
export's last checkpoint and parked in the dead-letter queue after a few attempts."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.core.observability import logger, metrics
from account_billing.core.settings import get_settings
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, per_container
from account_billing.exports.worker import ExportWorker
from account_billing.exports.worker_wiring import export_worker


@per_container
def worker() -> ExportWorker:
    return export_worker(Table(dynamodb_client(), get_settings().table_name))


@resumes_collection
@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            message = json.loads(record["body"])
            export = str(message["export"])
            outcome = worker().handle(str(message["account"]), export, context.get_remaining_time_in_millis)
        except Exception:
            logger.exception("Export run failed; SQS delivers it again")
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        logger.info("Export run done", extra={"export": export, "outcome": outcome})
    return {"batchItemFailures": failures}
