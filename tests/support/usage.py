"""Usage events for the usage recorder: `UsageRecorded` events as producers put them on the usage
bus (one charge, or a batch of charges), and the SQS batches the usage queue hands the recorder
(`events/usage_recorder/`)."""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

from functions.usage_recorder import app as recorder
from tests.support.events import EVENTS, LambdaContext
from tests.support.table import item

SAMPLE = json.loads((EVENTS / "usage_recorder" / "usage_recorded.json").read_text())
QUEUE_SAMPLE = json.loads((EVENTS / "usage_recorder" / "usage_queue_batch.json").read_text())


def charge(sub: str, amount: int, usage_id: str, **extra: Any) -> dict[str, Any]:
    return {"account": sub, "amount_cents": amount, "idempotency_id": usage_id, **extra}


def usage_event(
    sub: str, amount: int, usage_id: str, time: str = "2026-11-28T14:00:00Z", source: str = "inference"
) -> dict[str, Any]:
    """A `UsageRecorded` event of one charge."""
    event: dict[str, Any] = copy.deepcopy(SAMPLE)
    event.update(id=str(uuid.uuid4()), time=time, source=source, detail=charge(sub, amount, usage_id))
    return event


def batch_event(records: list[dict[str, Any]], time: str = "2026-11-28T14:00:00Z") -> dict[str, Any]:
    """A `UsageRecorded` event of several charges (`records`)."""
    event: dict[str, Any] = copy.deepcopy(SAMPLE)
    event.update(id=str(uuid.uuid4()), time=time, source="inference", detail={"records": records})
    return event


def sqs_batch(*bodies: Any) -> dict[str, Any]:
    """The SQS event the usage queue's event source sends: one record per message (events as
    EventBridge delivers them, or any body at all)."""
    template = QUEUE_SAMPLE["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body if isinstance(body, str) else json.dumps(body)
        records.append(record)
    return {"Records": records}


def deliver(*bodies: Any) -> dict[str, Any]:
    """Hand the recorder one batch of messages; its answer (the messages to deliver again)."""
    answer: dict[str, Any] = recorder.lambda_handler(sqs_batch(*bodies), LambdaContext())
    return answer


def failed_ids(answer: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in answer["batchItemFailures"]]


def spend(sub: str, month: str = "2026-11") -> int:
    """The month's spend as stored: the header and its parts, summed."""
    from tests.support.table import all_items  # noqa: PLC0415

    prefix = f"SPEND#{month}"
    return sum(
        int(i.get("spent_cents", 0))
        for i in all_items()
        if i["PK"] == f"ACCOUNT#{sub}" and re.fullmatch(re.escape(prefix) + r"(#\d+)?", i["SK"])
    )


def header(sub: str, month: str = "2026-11") -> dict[str, Any]:
    return item(f"ACCOUNT#{sub}", f"SPEND#{month}") or {}
