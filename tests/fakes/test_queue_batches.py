"""The local stack's SQS event sources hand a function batches as large as the template's
BatchSize (the usage queue's is 100), gathered ten messages at a time as SQS hands them out, and
delete only the messages the function did not name in `batchItemFailures`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from moto import mock_aws

from local.functions import FunctionRuntime, InvocationError
from local.resources import AsyncDelivery, QueueSource
from local.sources import EventPoller

if TYPE_CHECKING:
    from types_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef


class Recorder:
    """Stands in for the runtime: records each invocation, fails the messages it is told to."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.failing = failing or set()

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] in self.failing]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}


@pytest.fixture
def queue() -> Iterator[tuple[Any, str, str]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        url = sqs.create_queue(QueueName="usage", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for start in range(0, 35, 10):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(n), "MessageBody": json.dumps({"n": str(n)})} for n in range(start, min(35, start + 10))
            ]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        yield sqs, url, arn


def poller(sqs: Any, url: str, arn: str, runtime: Recorder, batch_size: int) -> EventPoller:
    source = QueueSource(url, arn, "UsageRecorderFunction", batch_size=batch_size, report_batch_item_failures=True)
    return EventPoller(sqs, cast(FunctionRuntime, runtime), "eu-west-1", [], [source])


def waiting(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_batch_larger_than_ten_arrives_in_one_invocation(queue: tuple[Any, str, str]) -> None:
    sqs, url, arn = queue
    runtime = Recorder()
    poller(sqs, url, arn, runtime, batch_size=25).poll()
    assert [len(event["Records"]) for event in runtime.events] == [25]
    assert waiting(sqs, url) == 10  # the rest waits for the next batch
    poller(sqs, url, arn, runtime, batch_size=25).poll()
    assert [len(event["Records"]) for event in runtime.events] == [25, 10]
    assert waiting(sqs, url) == 0
    bodies = sorted(int(json.loads(r["body"])["n"]) for e in runtime.events for r in e["Records"])
    assert bodies == list(range(35))


def test_only_the_messages_the_function_names_stay_on_the_queue(queue: tuple[Any, str, str]) -> None:
    sqs, url, arn = queue
    runtime = Recorder(failing={"3", "17", "30"})
    poller(sqs, url, arn, runtime, batch_size=100).poll()
    assert [len(event["Records"]) for event in runtime.events] == [35]
    assert waiting(sqs, url) == 3  # in flight until their visibility timeout, then delivered again


def test_delivering_one_source_sends_all_it_has_waiting_and_leaves_the_others(queue: tuple[Any, str, str]) -> None:
    # Given 25 EventBridge events waiting for a rule's function, an S3 notification waiting for
    # another, and the usage queue's 35 messages
    sqs, url, arn = queue
    events = sqs.create_queue(QueueName="rule-notices")["QueueUrl"]
    uploads = sqs.create_queue(QueueName="bucket-uploads")["QueueUrl"]
    for n in range(25):
        sqs.send_message(QueueUrl=events, MessageBody=json.dumps({"detail-type": "SecurityNotice", "detail": {"n": n}}))
    record = {"eventName": "ObjectCreated:Post", "s3": {"object": {"key": "avatars/a.jpg"}}}
    sqs.send_message(QueueUrl=uploads, MessageBody=json.dumps({"Records": [record]}))
    invoked: list[tuple[str, dict[str, Any]]] = []

    class Runtime:
        def invoke(self, function: str, event: dict[str, Any]) -> None:
            invoked.append((function, event))

    deliveries = [
        AsyncDelivery(events, "events", "notices-rule", "SecurityNoticesFunction"),
        AsyncDelivery(uploads, "s3", "avatars", "AvatarValidatorFunction"),
    ]
    source = QueueSource(url, arn, "UsageRecorderFunction", batch_size=100)
    rounds = EventPoller(sqs, cast(FunctionRuntime, Runtime()), "eu-west-1", deliveries, [source])

    # When the EventBridge deliveries are made
    made = rounds.deliver("events")

    # Then every waiting event reached its function, more than one receive's worth, each once
    assert made == 25
    assert sorted(event["detail"]["n"] for _, event in invoked) == list(range(25))
    assert {function for function, _ in invoked} == {"SecurityNoticesFunction"}
    assert waiting(sqs, events) == 0
    # And the upload and the usage queue wait for their own rounds
    assert waiting(sqs, uploads) == 1
    assert waiting(sqs, url) == 35


def test_an_event_the_function_keeps_failing_on_goes_to_its_on_failure_queue_as_lambdas_record(
    queue: tuple[Any, str, str],
) -> None:
    # Given a rule's event for a function that fails, retried once (MaximumRetryAttempts 1),
    # whose on-failure destination is a queue
    sqs, _, _ = queue
    events = sqs.create_queue(QueueName="rule-notices", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    parked = sqs.create_queue(QueueName="notices-failed")["QueueUrl"]
    sqs.send_message(QueueUrl=events, MessageBody=json.dumps({"detail-type": "SecurityNotice", "detail": {"n": 1}}))
    calls: list[dict[str, Any]] = []

    class Failing:
        def invoke(self, function: str, event: dict[str, Any]) -> None:
            calls.append(event)
            raise InvocationError("SES refused the message")

    delivery = AsyncDelivery(events, "events", "notices-rule", "SecurityNoticesFunction", 1, parked)
    rounds = EventPoller(sqs, cast(FunctionRuntime, Failing()), "eu-west-1", [delivery], [])

    # When the poller delivers it in one round after another
    for _ in range(3):
        rounds.poll()

    # Then the function was tried twice (once, and its one retry), no more
    assert len(calls) == 2
    assert waiting(sqs, events) == 0
    # And the event waits in the on-failure queue, inside Lambda's invocation record
    (message,) = sqs.receive_message(QueueUrl=parked)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"]["detail"] == {"n": 1}
    assert record["responsePayload"]["errorMessage"] == "SES refused the message"


def test_without_an_on_failure_destination_the_event_is_dropped_after_lambdas_two_retries(
    queue: tuple[Any, str, str],
) -> None:
    sqs, _, _ = queue
    events = sqs.create_queue(QueueName="rule-other", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(QueueUrl=events, MessageBody=json.dumps({"detail-type": "Other", "detail": {}}))
    calls: list[dict[str, Any]] = []

    class Failing:
        def invoke(self, function: str, event: dict[str, Any]) -> None:
            calls.append(event)
            raise InvocationError("boom")

    delivery = AsyncDelivery(events, "events", "other-rule", "OtherFunction")
    rounds = EventPoller(sqs, cast(FunctionRuntime, Failing()), "eu-west-1", [delivery], [])
    for _ in range(5):
        rounds.poll()

    assert len(calls) == 3
    assert waiting(sqs, events) == 0
