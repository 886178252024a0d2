"""What moto stores but never delivers, delivered by the local stack: S3 notifications, SQS
messages and EventBridge Scheduler schedules reach their functions in-process. Plus the local
mailbox (SES) and the local CloudFront."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest
from botocore.exceptions import ClientError

from local.schedules import ScheduleClock
from local.stack import LocalStack
from tests.e2e.conftest import python_module, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def events_with(received: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [call["event"] for call in received if key in call["event"]]


def test_an_upload_under_the_prefix_reaches_the_function_as_an_s3_record(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    s3 = echo_stack.client("s3")
    bucket = echo_stack.describe()["resources"]["AWS::S3::Bucket"]["Uploads"]

    s3.put_object(Bucket=bucket, Key="elsewhere/skipped.txt", Body=b"no")
    s3.put_object(Bucket=bucket, Key="incoming/a photo.png", Body=b"yes")

    records = wait_for(lambda: events_with(received, "Records"))
    assert len(records) == 1  # the filter kept the other key out; the test event never arrives
    (record,) = records[0]["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == bucket
    assert unquote_plus(record["s3"]["object"]["key"]) == "incoming/a photo.png"  # URL-encoded, as S3 sends it


def test_a_message_on_the_queue_reaches_the_function_as_an_sqs_record(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    sqs = echo_stack.client("sqs")
    queue = echo_stack.describe()["resources"]["AWS::SQS::Queue"]["Jobs"]
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]

    sqs.send_message(QueueUrl=url, MessageBody='{"job": 1}')

    (event,) = wait_for(lambda: events_with(received, "Records"))
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:sqs"
    assert record["body"] == '{"job": 1}'
    assert record["eventSourceARN"].endswith(f":{queue}")
    # handled without error: the message is deleted, not redelivered
    assert wait_for(lambda: _drained(sqs, url))


def test_an_event_on_the_bus_reaches_the_function_that_its_rule_matches(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    bus = f"{echo_stack.stack_name}-bus"
    entry = {"EventBusName": bus, "Source": "e2e", "Detail": json.dumps({"units": 3})}

    echo_stack.client("events").put_events(
        Entries=[{**entry, "DetailType": "SomethingElse"}, {**entry, "DetailType": "UsageRecorded"}]
    )

    (event,) = wait_for(lambda: events_with(received, "detail-type"))
    assert event["detail-type"] == "UsageRecorded"
    assert event["detail"] == {"units": 3}
    assert event["source"] == "e2e"


def _drained(sqs: Any, url: str) -> bool:
    attributes: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (
        attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def test_a_one_time_schedule_the_code_creates_fires_at_its_time_and_is_deleted(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    scheduler = echo_stack.client("scheduler")
    due = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")

    scheduler.create_schedule(
        Name="release-hold-h1",
        ScheduleExpression=f"at({due})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": echo_stack.function_arn("Echo"),
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": json.dumps({"hold_id": "h1", "at": "<aws.scheduler.scheduled-time>"}),
        },
    )

    event = wait_for(lambda: next((e for e in events_with(received, "hold_id")), None))
    assert event["hold_id"] == "h1"
    assert event["at"].endswith("Z")

    def deleted() -> bool:
        try:
            scheduler.get_schedule(Name="release-hold-h1")
        except ClientError as exc:
            return exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return False

    assert wait_for(deleted)
    assert len(events_with(received, "hold_id")) == 1  # fired once


def test_a_schedule_that_targets_a_queue_sends_its_input_as_the_message(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    scheduler = echo_stack.client("scheduler")
    queue = echo_stack.describe()["resources"]["AWS::SQS::Queue"]["Jobs"]
    queue_arn = f"arn:aws:sqs:{echo_stack.region}:{echo_stack.account_id}:{queue}"
    past = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    scheduler.create_schedule(
        Name="release-to-queue",
        ScheduleExpression=f"at({past})",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": queue_arn,
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": json.dumps({"release": "q1"}),
        },
    )

    (event,) = wait_for(lambda: events_with(received, "Records"))  # the queue's consumer got it

    (record,) = event["Records"]
    assert (json.loads(record["body"]), record["eventSourceARN"]) == ({"release": "q1"}, queue_arn)
    names = [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
    assert "release-to-queue" not in names  # fired once, then deleted


def test_a_schedule_of_another_stack_is_left_alone(echo_stack: LocalStack, received: list[dict[str, Any]]) -> None:
    scheduler = echo_stack.client("scheduler")
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    scheduler.create_schedule(
        Name="not-ours",
        ScheduleExpression=f"at({past})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:lambda:eu-west-1:123456789012:function:other-stack-Echo",
            "RoleArn": "arn:aws:iam::1:role/r",
        },
    )

    fired = echo_stack.clock.tick()  # type: ignore[union-attr]

    assert "default/not-ours" not in fired
    assert scheduler.get_schedule(Name="not-ours")["Name"] == "not-ours"
    scheduler.delete_schedule(Name="not-ours")


def test_recurring_schedules_fire_on_their_rate_and_cron(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    # Given a rate and a cron schedule, and a clock of the stack whose time the test moves
    scheduler = echo_stack.client("scheduler")
    target = {"Arn": echo_stack.function_arn("Echo"), "RoleArn": "arn:aws:iam::123456789012:role/scheduler"}
    for name, expression in (("every-5-min", "rate(5 minutes)"), ("jan-1-2020", "cron(30 4 1 JAN ? 2020)")):
        scheduler.create_schedule(
            Name=name,
            ScheduleExpression=expression,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={**target, "Input": json.dumps({"recurring": name})},
        )
    now = [datetime(2020, 1, 1, 4, 25, tzinfo=UTC)]
    clock = ScheduleClock(
        scheduler,
        echo_stack.provisioned,  # type: ignore[arg-type]
        echo_stack.runtime,  # type: ignore[arg-type]
        region=echo_stack.region,
        account=echo_stack.account_id,
        now=lambda: now[0],
    )
    mine = {"default/every-5-min", "default/jan-1-2020"}

    def tick_at(hour: int, minute: int, second: int = 0) -> set[str]:
        now[0] = datetime(2020, 1, 1, hour, minute, second, tzinfo=UTC)
        return set(clock.tick()) & mine

    try:
        # When its time moves on, Then each fires on its recurrence, once
        assert tick_at(4, 25) == set()
        assert tick_at(4, 30) == {"default/every-5-min", "default/jan-1-2020"}
        assert tick_at(4, 30, 40) == set()
        assert tick_at(4, 35) == {"default/every-5-min"}
        fired = sorted(event["recurring"] for event in events_with(received, "recurring"))
        assert fired == ["every-5-min", "every-5-min", "jan-1-2020"]
    finally:
        for name in ("every-5-min", "jan-1-2020"):
            scheduler.delete_schedule(Name=name)


def test_run_schedule_runs_a_template_schedule_now_with_its_input(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    response = httpx.post(f"{echo_stack.base_url}/_local/schedules/Nightly/run")

    assert response.status_code == 200
    assert response.json()["function"] == "Echo"
    event = received[-1]["event"]
    assert event["job"] == "nightly"
    assert event["schedule"].startswith("arn:aws:scheduler:")  # Scheduler's context attribute, filled in


def test_make_run_schedule_runs_it_in_the_running_stack(echo_stack: LocalStack, received: list[dict[str, Any]]) -> None:
    ran = python_module("local.schedule", "Nightly", "--url", echo_stack.base_url)
    unknown = python_module("local.schedule", "no-such-thing", "--url", echo_stack.base_url)

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["result"] == {"handled": 1}
    assert [call["event"]["job"] for call in received] == ["nightly"]
    assert unknown.returncode == 1
    assert "no schedule or function named 'no-such-thing'" in unknown.stdout


def test_the_mailbox_lists_what_ses_sent(echo_stack: LocalStack) -> None:
    ses = echo_stack.client("sesv2")
    ses.create_email_identity(EmailIdentity="mail.example.test")
    ses.send_email(
        FromEmailAddress="no-reply@mail.example.test",
        Destination={"ToAddresses": ["dora@example.test"]},
        Content={"Simple": {"Subject": {"Data": "Verify"}, "Body": {"Text": {"Data": "Your code: 123456"}}}},
    )

    messages = httpx.get(f"{echo_stack.base_url}/_local/mailbox", params={"to": "dora@example.test"}).json()["messages"]

    assert [(m["to"], m["subject"], m["body"]) for m in messages] == [
        (["dora@example.test"], "Verify", "Your code: 123456")
    ]


def test_a_cloudfront_distribution_serves_its_bucket_locally(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    bucket = echo_stack.describe()["resources"]["AWS::S3::Bucket"]["Uploads"]
    echo_stack.client("s3").put_object(Bucket=bucket, Key="public/a.png", Body=b"png", ContentType="image/png")
    httpx.post(f"{echo_stack.base_url}/plain", json={})

    # the function's https:// URL of the distribution is the gateway's, over plain HTTP
    cdn_url = received[-1]["environment"]["CDN_URL"]
    assert cdn_url == f"{echo_stack.base_url}/_local/cdn/Cdn"
    found = httpx.get(f"{cdn_url}/a.png")
    missing = httpx.get(f"{cdn_url}/none.png")

    assert found.status_code == 200
    assert found.content == b"png"
    assert found.headers["content-type"] == "image/png"
    assert missing.status_code == 404


def test_the_template_stacks_asynchronous_functions_keep_their_retries_and_on_failure_queues(
    stack: LocalStack,
) -> None:
    # The service's own stack: what its functions' EventInvokeConfig says, the local stack does
    provisioned = stack.provisioned
    assert provisioned is not None
    assert stack.poller is not None
    wired = {d.function: (d.retries, d.on_failure) for d in stack.poller.deliveries}

    assert wired["SecurityNoticesFunction"] == (2, provisioned.resolver.refs["SecurityNoticesDeadLetterQueue"])
    assert wired["AvatarValidatorFunction"] == (1, provisioned.resolver.refs["AvatarValidatorDeadLetterQueue"])
