"""Event sources that moto cannot deliver to a function: S3 notifications and EventBridge rules
(through the internal queues `local.resources` sets up as their targets) and SQS event source
mappings. A poller thread receives their messages and invokes the functions in-process with the
events Lambda would receive."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from local.config import ACCOUNT_ID
from local.functions import FunctionRuntime, InvocationError
from local.polling import Ticker
from local.resources import AsyncDelivery, QueueSource

log = logging.getLogger("local")

MAX_RECEIVE = 10  # SQS hands out at most ten messages per ReceiveMessage


@dataclass
class EventPoller:
    sqs: Any  # a boto3 SQS client on moto
    runtime: FunctionRuntime
    region: str
    deliveries: list[AsyncDelivery]
    queue_sources: list[QueueSource]
    interval: float = 0.25
    _ticker: Ticker | None = None
    _round: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        if not (self.deliveries or self.queue_sources):
            return
        self._ticker = Ticker("local-event-sources", self.interval, self.poll, "the local event poller")
        self._ticker.start()

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()

    def poll(self) -> int:
        """Deliver what is waiting; the number of invocations made. One round at a time."""
        with self._round:
            invocations = 0
            for delivery in self.deliveries:
                invocations += self._deliver_async(delivery)
            for source in self.queue_sources:
                invocations += self._deliver_sqs(source)
            return invocations

    def deliver(self, source: str) -> int:
        """Deliver what `source` ("s3" or "events") has waiting, until none is left; the number
        of invocations made. Other sources wait for their own round."""
        with self._round:
            invocations = 0
            for delivery in self.deliveries:
                if delivery.source == source:
                    while delivered := self._deliver_async(delivery):
                        invocations += delivered
            return invocations

    def drain(self, timeout: float = 30.0) -> None:
        """Deliver what is waiting until a round finds nothing (or `timeout` seconds have passed):
        what a schedule just queued is handled before this returns, as it would be within
        seconds in production. A round waits for one the poller thread is running. A message
        whose invocation failed stays hidden until its visibility timeout: not waited for."""
        deadline = time.monotonic() + timeout
        while self.poll():
            if time.monotonic() > deadline:
                log.warning("queued events still arriving after %.0f s; moving on", timeout)
                return

    def _receive(self, queue_url: str, batch_size: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch_size,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _invoke(self, function: str, event: dict[str, Any], label: str) -> Any:
        started = time.monotonic()
        outcome = "error"
        try:
            result = self.runtime.invoke(function, event)
            outcome = "ok"
            return result
        finally:
            log.info("%s %s %.0f ms %s", label, outcome, (time.monotonic() - started) * 1000, function)

    def _deliver_async(self, delivery: AsyncDelivery) -> int:
        invocations = 0
        for message in self._receive(delivery.queue_url, 10):
            attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            event: dict[str, Any] = {}
            try:
                for event, label in async_events(delivery, json.loads(message["Body"])):
                    self._invoke(delivery.function, event, label)
                    invocations += 1
            except InvocationError as exc:
                if attempts <= delivery.retries:
                    continue  # redelivered after the queue's visibility timeout, as Lambda retries
                self._failed(delivery, event, attempts, exc)
            self.sqs.delete_message(QueueUrl=delivery.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return invocations

    def _failed(self, delivery: AsyncDelivery, event: dict[str, Any], attempts: int, error: InvocationError) -> None:
        """An event the function failed on `attempts` times: to its on-failure destination as
        Lambda's invocation record (Lambda Developer Guide, "Capturing records of asynchronous
        invocations"), or dropped, as Lambda drops it when the function names none."""
        if delivery.on_failure is None:
            log.error("%s event for %s dropped after %d attempts", delivery.source, delivery.function, attempts)
            return
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"{self._arn(delivery.function)}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": str(error), "errorType": type(error).__name__},
        }
        self.sqs.send_message(QueueUrl=delivery.on_failure, MessageBody=json.dumps(record))
        log.error(
            "%s event for %s failed %d times: sent to its on-failure queue",
            delivery.source,
            delivery.function,
            attempts,
        )

    def _arn(self, function: str) -> str:
        known = getattr(self.runtime, "functions", {}).get(function)
        return str(known.arn) if known is not None else f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{function}"

    def _gather(self, queue_url: str, batch_size: int) -> list[dict[str, Any]]:
        """Up to `batch_size` messages, ten a ReceiveMessage (SQS's most), until the queue has
        no more to give."""
        messages: list[dict[str, Any]] = []
        while len(messages) < batch_size:
            received = self._receive(queue_url, min(MAX_RECEIVE, batch_size - len(messages)))
            messages.extend(received)
            if not received:
                break
        return messages

    def _deliver_sqs(self, source: QueueSource) -> int:
        messages = self._gather(source.queue_url, source.batch_size)
        if not messages:
            return 0
        event = {"Records": list(sqs_records(messages, source.queue_arn, self.region))}
        try:
            result = self._invoke(source.function, event, f"SQS {source.queue_arn.rsplit(':', 1)[-1]} x{len(messages)}")
        except InvocationError:
            return 1  # the whole batch comes back after its visibility timeout
        failed = set()
        if source.report_batch_item_failures and isinstance(result, dict):
            failed = {item.get("itemIdentifier") for item in result.get("batchItemFailures") or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), MAX_RECEIVE):  # DeleteMessageBatch takes ten at most too
            self.sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + MAX_RECEIVE])
                ],
            )
        return 1


def sqs_records(messages: Iterable[dict[str, Any]], queue_arn: str, region: str) -> Iterable[dict[str, Any]]:
    """SQS messages as the records of a Lambda SQS event."""
    for message in messages:
        attributes = {}
        for name, value in (message.get("MessageAttributes") or {}).items():
            attributes[name] = {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType"),
            }
        yield {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }


def async_events(delivery: AsyncDelivery, body: dict[str, Any]) -> Iterable[tuple[dict[str, Any], str]]:
    """The events a queued message stands for, with a log label: S3 invokes the function once
    per record (and its test event never reaches a function); EventBridge sends the event."""
    if delivery.source != "s3":
        # EventBridge names the account in every event; moto's delivery leaves it out.
        yield {"account": ACCOUNT_ID, **body}, f"EVENT {delivery.origin} {body.get('detail-type', '')}"
        return
    if body.get("Event") == "s3:TestEvent":
        return
    for record in body.get("Records", []):
        key = unquote_plus(record["s3"]["object"]["key"])
        yield {"Records": [record]}, f"S3 {record['eventName']} s3://{delivery.origin}/{key}"
