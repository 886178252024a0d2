"""SQS event sources in tests: a queue's messages handed to a function as Lambda's event source
mapping hands them (batches of SQS records; with ReportBatchItemFailures, the messages the
function names come back, the others are deleted), on moto's SQS, whose redrive policies move a
message to its dead-letter queue once it was received `maxReceiveCount` times."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import boto3

from local.sources import sqs_records
from tests.support.events import LambdaContext


def queue_arn(url: str) -> str:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def poll(
    url: str,
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    *,
    rounds: int = 10,
    batch_size: int = 10,
    context: Any = None,
) -> list[dict[str, Any]]:
    """Deliver what waits on the queue at `url` to `handler`, up to `rounds` batches; the
    handler's answers. A handler that raises hands the whole batch back (as Lambda does)."""
    sqs = boto3.client("sqs")
    arn = queue_arn(url)
    answers: list[dict[str, Any]] = []
    for _ in range(rounds):
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=batch_size, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if not received:
            break
        batch = cast(list[dict[str, Any]], received)
        answer = handler({"Records": list(sqs_records(batch, arn, "eu-west-1"))}, context or LambdaContext())
        answers.append(answer)
        failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
        done = [m for m in batch if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            )
    return answers


def waiting(url: str) -> list[Any]:
    """The bodies of the messages waiting on a queue (received, then made visible again)."""
    sqs = boto3.client("sqs")
    bodies: list[Any] = []
    handles: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies.extend(json.loads(m["Body"]) for m in messages)
        handles.extend(m["ReceiptHandle"] for m in messages)
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return bodies
