"""S3 ObjectCreated on `uploads/`: check each uploaded avatar, publish or reject it."""

from __future__ import annotations

from account_billing.core.coldstart import resumes_collection

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from account_billing.avatars import images
from account_billing.avatars.storage import AvatarStorage, s3_client
from account_billing.avatars.store import AvatarStore
from account_billing.avatars.validation import AvatarValidator
from account_billing.core.observability import logger, metrics
from account_billing.core.settings import get_settings
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, per_container


@per_container
def validator() -> AvatarValidator:
    settings = get_settings()
    table = Table(dynamodb_client(), settings.table_name)
    storage = AvatarStorage.from_settings(s3_client(), settings, serving=True)
    return AvatarValidator(AvatarStore(table), storage, images.inspect)


@resumes_collection
@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    outcomes: dict[str, int] = {}
    bucket = get_settings().avatar_bucket
    # An s3:TestEvent (sent when notifications are configured) has no records.
    for record in event.records if "Records" in event.raw_event else ():
        if not record.event_name.startswith("ObjectCreated:") or record.s3.bucket.name != bucket:
            continue
        # S3 URL-encodes keys in events (a space arrives as "+").
        key = unquote_plus(record.s3.get_object.key)
        outcome = validator().handle(key)
        logger.info("Avatar upload processed", extra={"key": key, "outcome": outcome.value})
        outcomes[outcome.value] = outcomes.get(outcome.value, 0) + 1
    return {"outcomes": outcomes}
