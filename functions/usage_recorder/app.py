"""Counts `UsageRecorded` events from the usage bus against the month's spend, and publishes
`SpendingLimitReached` once per month when the spend reaches the plan's limit.

A failure raises, so EventBridge retries the event (and parks it in the dead-letter queue at
last); counting is idempotent per event, so a retry never counts twice.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.data.accounts import AccountStore
from account_billing.data.spending import SpendStore
from account_billing.data.table import Table
from account_billing.events_publisher import EventPublisher
from account_billing.models.spending_requests import UsageRecorded
from account_billing.observability import logger, metrics
from account_billing.settings import get_settings
from account_billing.spending import SpendingService
from account_billing.wiring import dynamodb_client, events_client, per_container


class UsageRecordedEvent(EventBridgeModel):  # type: ignore[misc]
    detail: UsageRecorded


@per_container
def spending() -> SpendingService:
    settings = get_settings()
    if not settings.event_bus_name:
        raise RuntimeError("EVENT_BUS_NAME is not configured")
    table = Table(dynamodb_client(), settings.table_name)
    return SpendingService(
        AccountStore(table),
        SpendStore(table),
        publish=EventPublisher(events_client(), settings.event_bus_name, "SpendingLimitReached"),
    )


@logger.inject_lambda_context
@metrics.log_metrics
@event_parser(model=UsageRecordedEvent)
def lambda_handler(event: UsageRecordedEvent, context: LambdaContext) -> dict[str, Any]:
    counted = spending().record_usage(event.detail, source=event.source, occurred_at=event.time)
    return {"counted": counted}
