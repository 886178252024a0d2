"""Fixtures shared by every test: a fake AWS environment, moto, and tables from template.yaml."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from account_billing.core.wiring import reset_containers
from local.dynamodb_atomic import atomic_call_action
from local.template import create_tables, load_template, resources
from tests.support.iam import name_in_tests

# IAM evaluated for every function's AWS calls, DynamoDB's limits, S3's POST policies; every
# metric emitted checked for unbounded dimensions (tests.support.emf).
pytest_plugins = ["tests.support.aws_recorder", "tests.support.emf"]

STACK = "test"
AVATAR_BASE_URL = "https://avatars.example.test"

# Powertools reads these when a function module is imported, as Lambda sets them before that.
os.environ.update(
    POWERTOOLS_SERVICE_NAME="account-billing",
    POWERTOOLS_METRICS_NAMESPACE="AccountBilling",
    POWERTOOLS_LOG_LEVEL="WARNING",
)


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test ever reaches real AWS: fake credentials, a fixed region, fresh singletons."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "STAGE": "test",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    reset_containers()
    yield
    reset_containers()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto's in-memory AWS with every table of template.yaml; yields logical → physical names."""
    monkeypatch.setattr(DynamoHandler, "call_action", atomic_call_action)  # as local/ does
    with mock_aws():
        client = boto3.client("dynamodb")
        template = load_template()
        names = create_tables(client, template, STACK)
        monkeypatch.setenv("TABLE_NAME", names["AccountTable"])
        monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", names["IdempotencyTable"])
        # the template's SES sender identity, and the sender address the emails function gets
        parameters = template["Parameters"]
        boto3.client("sesv2").create_email_identity(EmailIdentity=parameters["EmailSenderDomain"]["Default"])
        monkeypatch.setenv("EMAIL_FROM", parameters["EmailFromAddress"]["Default"])
        # the template's buckets; the avatar bucket's published objects served from a CDN URL
        for logical in resources(template, "AWS::S3::Bucket"):
            names[logical] = name_in_tests(logical)  # the template's name, as in its policies
            boto3.client("s3").create_bucket(
                Bucket=names[logical], CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        monkeypatch.setenv("AVATAR_BUCKET", names["AvatarBucket"])
        monkeypatch.setenv("AVATAR_BASE_URL", AVATAR_BASE_URL)
        # data exports: their bucket and the queue the export function reads
        monkeypatch.setenv("EXPORT_BUCKET", names["ExportBucket"])
        queue = name_in_tests("ExportQueue").rsplit("/", 1)[-1]
        monkeypatch.setenv("EXPORT_QUEUE_URL", boto3.client("sqs").create_queue(QueueName=queue)["QueueUrl"])
        yield names


@pytest.fixture
def dynamodb(aws: dict[str, str]) -> Any:
    return boto3.client("dynamodb")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """template.yaml as written (intrinsics unresolved)."""
    return load_template()


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    """template.yaml after SAM's transform: the resources CloudFormation deploys."""
    from tests.support.sam import transformed_template  # noqa: PLC0415 - samtranslator, for template tests only

    return transformed_template()
