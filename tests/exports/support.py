"""Exports as their owner starts and reads them (the exports function's routes), the export
function fed from the export queue as SQS feeds it, and the archives as S3 holds them."""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import boto3

from functions.account_exports import app as exports_app
from functions.exports import app as exports_routes
from tests.support.events import EVENTS, LambdaContext, call, http_event

Result = tuple[int, dict[str, str], Any]


def start(sub: str, key: str | None = None) -> Result:
    event = http_event("exports/start_export", sub=sub, headers={"idempotency-key": key or str(uuid.uuid4())})
    return call(exports_routes.lambda_handler, event)


def show(sub: str, export_id: str) -> Result:
    return call(
        exports_routes.lambda_handler,
        http_event("exports/get_export", sub=sub, path_parameters={"export_id": export_id}),
    )


class RunContext(LambdaContext):
    """A Lambda context whose remaining time `remaining()` says."""

    def __init__(self, remaining: Callable[[], int]) -> None:
        self.remaining = remaining

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining()


def plenty() -> int:
    return 600_000


def sqs_event(message: dict[str, Any]) -> dict[str, Any]:
    sample = json.loads((EVENTS / "account_exports" / "export_requested.json").read_text())
    record = {**sample["Records"][0], "messageId": message["MessageId"], "body": message["Body"]}
    return {"Records": [record]}


def queued() -> list[dict[str, Any]]:
    """Take every message waiting in the export queue."""
    sqs = boto3.client("sqs")
    taken: list[dict[str, Any]] = []
    while True:
        found = sqs.receive_message(QueueUrl=os.environ["EXPORT_QUEUE_URL"], MaxNumberOfMessages=10).get("Messages", [])
        if not found:
            return taken
        for message in found:
            sqs.delete_message(QueueUrl=os.environ["EXPORT_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"])
        taken += [dict(m) for m in found]


def run(message: dict[str, Any], remaining: Callable[[], int] = plenty) -> list[dict[str, str]]:
    """Deliver one message to the export function; the failures it reports."""
    result = exports_app.lambda_handler(sqs_event(message), RunContext(remaining))
    return list(result["batchItemFailures"])


def drain(remaining: Callable[[], int] = plenty, at_most: int = 50) -> int:
    """Deliver what the export queue holds (continuations included) until it is empty; the runs."""
    runs = 0
    while messages := queued():
        for message in messages:
            assert run(message, remaining) == []
            runs += 1
            assert runs <= at_most
    return runs


def export_bucket() -> str:
    return os.environ["EXPORT_BUCKET"]


def bucket_keys() -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=export_bucket())
    return [item["Key"] for item in listed.get("Contents", [])]


def open_uploads() -> list[str]:
    listed = boto3.client("s3").list_multipart_uploads(Bucket=export_bucket())
    return [upload["Key"] for upload in listed.get("Uploads", [])]


def archive_bytes(key: str) -> bytes:
    data: bytes = boto3.client("s3").get_object(Bucket=export_bucket(), Key=key)["Body"].read()
    return data


def archive(key: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(archive_bytes(key)))


def member(zipped: zipfile.ZipFile, name: str) -> Any:
    return json.loads(zipped.read(name))
