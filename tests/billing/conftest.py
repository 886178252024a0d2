"""Billing fixtures: the offline Stripe simulator installed as the process's Stripe, the AWS
resources the billing functions use (schedule group, dead-letter queue) in moto, and (`lifecycle`)
the stage's Prices seeded, the webhook's signing secret in SSM, and Stripe's deliveries going to
the webhook function in-process (`Lifecycle.deliver()` sends what is queued, as Stripe would)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from stripe_simulator import Simulator, WebhookEndpoint
from stripe_simulator.resources.prices import seed_price
from tests.support.billing import SCHEDULE_GROUP, SCHEDULER_ROLE_ARN, TASK_QUEUE
from tests.support.lifecycle import MONTHLY, PRICE_IDS, WEBHOOK_SECRET_PARAMETER, Lifecycle
from tests.support.stripe import simulated, store_test_key


@pytest.fixture
def stripe_sim() -> Iterator[Simulator]:
    """A fresh simulator: every container's Stripe requests go to it."""
    with simulated(Simulator()) as simulator:
        yield simulator


@pytest.fixture
def billing(aws: dict[str, str], stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The billing functions' environment, as template.yaml gives it, on moto."""
    boto3.client("scheduler").create_schedule_group(Name=SCHEDULE_GROUP)
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="test-hold-release-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    tasks = sqs.create_queue(QueueName=TASK_QUEUE)["QueueUrl"]
    tasks_arn = sqs.get_queue_attributes(QueueUrl=tasks, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for name, value in {
        "RELEASE_SCHEDULE_GROUP": SCHEDULE_GROUP,
        "RELEASE_QUEUE_ARN": tasks_arn,
        "RELEASE_SCHEDULER_ROLE_ARN": SCHEDULER_ROLE_ARN,
        "RELEASE_DEAD_LETTER_QUEUE_ARN": dlq_arn,
        "HOLD_RELEASE_DELAY_MINUTES": "1440",
        "STRIPE_TASK_QUEUE_URL": tasks,
        "STRIPE_BACKGROUND_RATE": "100",
        "STRIPE_WORKER_CONCURRENCY": "2",
        # Tests add cards faster than a person does; the budget itself has its own tests.
        "STRIPE_INTERACTIVE_RATE": "10000",
        **store_test_key(),
    }.items():
        monkeypatch.setenv(name, value)
    return {"dlq_arn": dlq_arn, "task_queue": tasks, "task_queue_arn": tasks_arn, "simulator": stripe_sim, **aws}


@pytest.fixture
def lifecycle(billing: dict[str, Any], stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Lifecycle:
    for plan, price in PRICE_IDS.items():
        seed_price(stripe_sim, price, MONTHLY[plan], plan.title())
    monkeypatch.setenv("PLAN_PRICE_IDS", json.dumps(PRICE_IDS))
    monkeypatch.setenv("PLAN_MONTHLY_PRICES", json.dumps(MONTHLY))
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_PARAMETER", WEBHOOK_SECRET_PARAMETER)
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools keeps parameters per process; each test has its own secret
    endpoint = WebhookEndpoint(lambda body, headers: 0)
    boto3.client("ssm").put_parameter(
        Name=WEBHOOK_SECRET_PARAMETER, Value=endpoint.secret, Type="SecureString", Overwrite=True
    )
    life = Lifecycle(stripe_sim, endpoint)
    endpoint.deliver = life.receive
    stripe_sim.add_webhook_endpoint(endpoint)
    return life
