"""Counts the usage charges of `UsageRecorded` events against the month's spend, and publishes
`SpendingLimitReached` once per month when the spend reaches the plan's limit, and
`SpendingThresholdCrossed` (with an email to the billing email) once per month for each of the
account's alert thresholds.

The usage bus's rule puts every `UsageRecorded` event on the usage queue, which hands them to
this function in batches (one charge or a batch of charges an event). Messages whose charges
could not be counted are reported back (`batchItemFailures`) and come again; counting is
idempotent per charge, so a redelivery never counts twice. A message that is not a usage event
comes back until the queue moves it to its dead-letter queue (an alarm watches it).
"""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Any

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
from account_billing.spending.service import SpendingService, usages_in
from account_billing.spending.store import SpendStore


class UsageNotCounted(Exception):
    """Raised for an event EventBridge sent straight here, so that it retries it."""


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


@resumes_collection
@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # An event sent straight by EventBridge (before its rule targeted the queue) is one message.
    records = event.get("Records", [{"messageId": "direct", "body": event}])
    usages, poisoned = usages_in(records)
    outcome = spending().record_batch(usages)
    if outcome.counted:
        metrics.add_metric(name="UsageRecorded", unit="Count", value=outcome.counted)
    if outcome.repeated:
        metrics.add_metric(name="UsageRepeated", unit="Count", value=outcome.repeated)
    if outcome.dropped:
        metrics.add_metric(name="UsageWithoutAccount", unit="Count", value=outcome.dropped)
    if outcome.limits_reached:
        metrics.add_metric(name="SpendingLimitReached", unit="Count", value=outcome.limits_reached)
    if outcome.failed_messages or poisoned:
        metrics.add_metric(name="UsageMessagesFailed", unit="Count", value=len(outcome.failed_messages) + len(poisoned))
    failed = sorted(outcome.failed_messages) + poisoned
    if "Records" not in event:
        if failed:
            raise UsageNotCounted(event.get("id"))
        return {"counted": outcome.counted}
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
