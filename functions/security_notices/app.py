"""Sends the security notices of account changes (`SecurityNotice` events from the functions
that make them): User ID or primary email changed, email or card added, card removed, deletion
requested. Each is sent once; a failure raises, so EventBridge retries the event (and parks it
in the dead-letter queue at last), while the change itself has long been made.
"""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.core.observability import logger, metrics
from account_billing.core.settings import get_settings, required
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, per_container, sesv2_client
from account_billing.emails.mailer import SesMailer
from account_billing.notices.service import NoticeSender
from account_billing.notices.store import NoticeStore


@per_container
def notices() -> NoticeSender:
    settings = get_settings()
    return NoticeSender(
        NoticeStore(Table(dynamodb_client(), settings.table_name)),
        send=SesMailer(sesv2_client, required(settings.email_from, "EMAIL_FROM"), settings.email_configuration_set),
    )


@resumes_collection
@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"outcome": notices().handle(event.get("detail") or {})}
