"""Billing fixtures: the offline Stripe simulator installed as the process's Stripe, and the
AWS resources the billing functions use (schedule group, dead-letter queue) in moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from stripe_simulator import Simulator, install
from tests.billing.helpers import RELEASE_FUNCTION_ARN, SCHEDULE_GROUP, SCHEDULER_ROLE_ARN


@pytest.fixture
def stripe_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A fresh simulator, the one every gateway of the process talks to (STRIPE_MODE=simulator)."""
    simulator = Simulator()
    previous = install(simulator)
    monkeypatch.setenv("STRIPE_MODE", "simulator")
    yield simulator
    install(previous)


@pytest.fixture
def billing(aws: dict[str, str], stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The billing functions' environment, as template.yaml gives it, on moto."""
    boto3.client("scheduler").create_schedule_group(Name=SCHEDULE_GROUP)
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="test-hold-release-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for name, value in {
        "RELEASE_SCHEDULE_GROUP": SCHEDULE_GROUP,
        "RELEASE_FUNCTION_ARN": RELEASE_FUNCTION_ARN,
        "RELEASE_SCHEDULER_ROLE_ARN": SCHEDULER_ROLE_ARN,
        "RELEASE_DEAD_LETTER_QUEUE_ARN": dlq_arn,
        "HOLD_RELEASE_DELAY_MINUTES": "1440",
        "SWEEPER_STRIPE_RATE": "50",
    }.items():
        monkeypatch.setenv(name, value)
    return {"dlq_arn": dlq_arn, "simulator": stripe_sim, **aws}
