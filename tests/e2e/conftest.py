"""Fixtures of the end-to-end tests: the local stack started in-process on free ports, driven
over real HTTP.

`stack` runs the service's own template.yaml; `echo_stack` runs a small throwaway template
whose one function (tests/e2e/echo/app.py) records what it receives, to check the plumbing the
service's template does not exercise yet (S3 and SQS deliveries, schedules, binary responses)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from local.template import ROOT

ECHO_ROOT = Path(__file__).parent
ECHO_ISSUER = "https://issuer.example.test/"
ECHO_AUDIENCE = "echo-client"


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(state_dir=tmp_path_factory.mktemp("local-state")) as running:
        yield running


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        yield client


@dataclass(frozen=True)
class Caller:
    sub: str
    token: str
    user_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def caller(stack: LocalStack) -> Caller:
    """A new user of the API, with a token from the local identity provider."""
    suffix = uuid.uuid4().hex[:10]
    return Caller(sub=f"e2e-{suffix}", token=stack.issue_token(f"e2e-{suffix}"), user_id=f"user_{suffix}")


@pytest.fixture
def account(api: httpx.Client, caller: Caller) -> httpx.Response:
    """The caller's account, just created."""
    response = api.post("/v1/account", json={"user_id": caller.user_id}, headers=caller.auth)
    assert response.status_code == 201, response.text
    return response


def echo_template() -> dict[str, Any]:
    api = {"Ref": "Api"}

    def route(path: str, method: str, **auth: Any) -> dict[str, Any]:
        props: dict[str, Any] = {"ApiId": api, "Path": path, "Method": method}
        if auth:
            props["Auth"] = auth
        return {"Type": "HttpApi", "Properties": props}

    return {
        "Parameters": {"Greeting": {"Type": "String", "Default": "hello"}},
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::HttpApi",
                "Properties": {
                    "Auth": {
                        "DefaultAuthorizer": "Jwt",
                        "Authorizers": {
                            "Jwt": {
                                "IdentitySource": "$request.header.Authorization",
                                "JwtConfiguration": {"issuer": ECHO_ISSUER, "audience": [ECHO_AUDIENCE]},
                            }
                        },
                    },
                    "CorsConfiguration": {
                        "AllowOrigins": ["https://app.example.test"],
                        "AllowMethods": ["GET", "POST"],
                        "AllowHeaders": ["authorization"],
                        "ExposeHeaders": ["etag"],
                        "MaxAge": 600,
                    },
                },
            },
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                },
            },
            "Uploads": {"Type": "AWS::S3::Bucket"},
            "Cdn": {
                "Type": "AWS::CloudFront::Distribution",
                "Properties": {
                    "DistributionConfig": {
                        "Origins": [
                            {
                                "Id": "uploads",
                                "DomainName": {"Fn::GetAtt": ["Uploads", "RegionalDomainName"]},
                                "OriginPath": "/public",
                            }
                        ],
                        "DefaultCacheBehavior": {"TargetOriginId": "uploads"},
                    }
                },
            },
            "Jobs": {"Type": "AWS::SQS::Queue"},
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-bus"}}},
            "Broken": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "broken/",
                    "Handler": "app.handler",
                    "Events": {"Get": route("/broken", "GET", Authorizer="NONE")},
                },
            },
            "Echo": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "echo/",
                    "Handler": "app.handler",
                    "Timeout": 5,
                    "Environment": {
                        "Variables": {
                            "TABLE_NAME": {"Ref": "Table"},
                            "BUCKET": {"Ref": "Uploads"},
                            "QUEUE_URL": {"Ref": "Jobs"},
                            "GREETING": {"Fn::Sub": "${Greeting}, world"},
                            "STACK": {"Ref": "AWS::StackName"},
                            "CDN_URL": {"Fn::Sub": "https://${Cdn.DomainName}"},
                        }
                    },
                    "Events": {
                        "Item": route("/items/{id}", "GET"),
                        "Files": route("/files/{proxy+}", "ANY", Authorizer="NONE"),
                        "Admin": route("/admin", "GET", AuthorizationScopes=["admin"]),
                        "Boom": route("/boom", "GET", Authorizer="NONE"),
                        "Binary": route("/binary", "GET", Authorizer="NONE"),
                        "Plain": route("/plain", "POST", Authorizer="NONE"),
                        "Malformed": route("/malformed", "GET", Authorizer="NONE"),
                        "Upload": {
                            "Type": "S3",
                            "Properties": {
                                "Bucket": {"Ref": "Uploads"},
                                "Events": "s3:ObjectCreated:*",
                                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "incoming/"}]}},
                            },
                        },
                        "Work": {
                            "Type": "SQS",
                            "Properties": {"Queue": {"Fn::GetAtt": ["Jobs", "Arn"]}, "BatchSize": 5},
                        },
                        "Usage": {
                            "Type": "EventBridgeRule",
                            "Properties": {
                                "EventBusName": {"Ref": "Bus"},
                                "Pattern": {"detail-type": ["UsageRecorded"]},
                            },
                        },
                        "Nightly": {
                            "Type": "ScheduleV2",
                            "Properties": {
                                "ScheduleExpression": "cron(0 3 * * ? *)",
                                "Input": '{"job": "nightly", "schedule": "<aws.scheduler.schedule-arn>"}',
                            },
                        },
                    },
                },
            },
        },
    }


@pytest.fixture(scope="package")
def echo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(
        template=echo_template(),
        root=ECHO_ROOT,
        state_dir=tmp_path_factory.mktemp("echo-state"),
        clock_interval=0.2,
        poll_interval=0.1,
    ) as running:
        yield running


@pytest.fixture
def received(echo_stack: LocalStack) -> Iterator[list[dict[str, Any]]]:
    """What the echo function receives during the test."""
    records: list[dict[str, Any]] = echo_stack.runtime.module("Echo").RECEIVED  # type: ignore[union-attr]
    records.clear()
    yield records
    records.clear()


def wait_for[T](probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """The first truthy result of `probe`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if result := probe():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {timeout} s")
        time.sleep(0.05)


def python_module(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m <args>` from the repository root, as the Makefile does; never raises on
    a non-zero exit (the tests check it)."""
    command = [sys.executable, "-m", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603 -- our own modules


def spawn_python_module(*args: str) -> subprocess.Popen[str]:
    """Start `python -m <args>` from the repository root, its output piped."""
    command = [sys.executable, "-m", *args]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603 -- our own modules
