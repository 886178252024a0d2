"""The billing services of a container, built once and shared by the functions that move money
(payment methods, subscriptions). Clients are created here; stripe loads on the first Stripe call."""

from __future__ import annotations

from datetime import timedelta

import boto3
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

from ..data.table import Table
from ..settings import get_settings
from ..wiring import AWS_CLIENT_CONFIG, dynamodb_client, per_container
from .cards import PaymentMethodService
from .deferred import deferred_gateway
from .idempotency import idempotency_config
from .scheduling import ReleaseScheduler
from .settings import billing_settings


@per_container
def card_service() -> PaymentMethodService:
    settings = billing_settings()
    return PaymentMethodService(
        Table(dynamodb_client(), get_settings().table_name),
        deferred_gateway(settings),
        ReleaseScheduler.from_settings(boto3.client("scheduler", config=AWS_CLIENT_CONFIG), settings),
        currency=settings.currency,
        release_delay=timedelta(minutes=settings.hold_release_delay_minutes),
    )


@per_container
def idempotency() -> IdempotencyConfig:
    return idempotency_config()


def idempotency_table_name() -> str:
    name = billing_settings().idempotency_table_name
    if not name:
        raise RuntimeError("IDEMPOTENCY_TABLE_NAME is not set")
    return name
