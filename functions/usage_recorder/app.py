"""Counts `UsageRecorded` events from the usage bus against the month's spend, and publishes
`SpendingLimitReached` once per month when the spend reaches the plan's limit, and
`SpendingThresholdCrossed` (with an email to the billing email) once per month for each of the
account's alert thresholds.

A failure raises, so EventBridge retries the event (and parks it in the dead-letter queue at
last); counting is idempotent per event, so a retry never counts twice.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.accounts.store import AccountStore
from account_billing.billing.details.store import BillingDetailsStore
from account_billing.billing.notices import billing_recipient
from account_billing.core.events import EventPublisher
from account_billing.core.observability import logger, metrics
from account_billing.core.settings import get_settings, required
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, events_client, per_container, sesv2_client
from account_billing.emails.mailer import SesMailer
from account_billing.spending.alerts import SpendingAlerts
from account_billing.spending.alerts_store import AlertStore
from account_billing.spending.models import UsageRecorded
from account_billing.spending.service import SpendingService
from account_billing.spending.store import SpendStore


class UsageRecordedEvent(EventBridgeModel):
    detail: UsageRecorded


@per_container
def spending() -> SpendingService:
    settings = get_settings()
    table = Table(dynamodb_client(), settings.table_name)
    bus = required(settings.event_bus_name, "EVENT_BUS_NAME")
    accounts = AccountStore(table)
    alerts = SpendingAlerts(
        accounts,
        AlertStore(table),
        publish=EventPublisher(events_client(), bus, "SpendingThresholdCrossed"),
        send=SesMailer(sesv2_client, required(settings.email_from, "EMAIL_FROM"), settings.email_configuration_set),
        recipient=billing_recipient(accounts, BillingDetailsStore(table)),
        web_app_url=settings.web_app_url,
    )
    return SpendingService(
        accounts,
        SpendStore(table),
        publish=EventPublisher(events_client(), bus, "SpendingLimitReached"),
        alerts=alerts.check,
    )


@logger.inject_lambda_context
@metrics.log_metrics
@event_parser(model=UsageRecordedEvent)
def lambda_handler(event: UsageRecordedEvent, context: LambdaContext) -> dict[str, Any]:
    counted = spending().record_usage(event.detail, source=event.source, occurred_at=event.time)
    return {"counted": counted}
