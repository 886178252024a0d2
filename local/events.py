"""What travels on the stack's EventBridge buses, and usage published by hand.

- `GET /_local/events`: every event put on the template's buses since the stack started
  (`UsageRecorded`, `SpendingLimitReached`...), newest first; a page with a form in a browser.
  A catch-all rule on each bus sends a copy to a queue of the stack's own (as one would attach
  a queue to watch a bus in AWS); the page reads it.
- `POST /_local/usage` (`account`, `cents`): publishes `UsageRecorded` for that account (its
  JWT `sub`) with PutEvents on the usage bus, as a metering service would; the usage recorder's
  rule takes it from there. `make usage USER=alice CENTS=1250` posts it.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import sys
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from local.apigw import HttpRequest, HttpResponse
from local.config import ACCOUNT_ID, STATE_DIR
from local.schedule import ask_running_stack, running_stack_url
from local.webpage import form_fields, html_page, json_page, problem, see_other, wants_html

log = logging.getLogger("local")

USAGE_DETAIL_TYPE = "UsageRecorded"
USAGE_SOURCE = "local.usage"  # the source a metering service would name; the recorder takes any
KEPT = 1000  # events listed, at most
MAX_CENTS = 1_000_000_000  # what one UsageRecorded may carry (spending.models.UsageRecorded)


def template_buses(template: Mapping[str, Any], physical: Mapping[str, str]) -> dict[str, str]:
    """Logical id → physical name of the template's event buses."""
    return {
        logical: physical[logical]
        for logical, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Events::EventBus" and logical in physical
    }


@dataclass
class EventTap:
    events: Any  # boto3 EventBridge client on moto
    sqs: Any  # boto3 SQS client on moto
    stack: str
    buses: dict[str, str]  # logical id → physical name
    _queue_url: str = ""
    _seen: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=KEPT))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        """The tap's queue, and on each bus a rule matching every event of this account."""
        self._queue_url = self.sqs.create_queue(QueueName=f"{self.stack}-local-event-tap")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for bus in self.buses.values():
            rule = f"{self.stack}-local-event-tap"
            self.events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"account": [ACCOUNT_ID]}))
            self.events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "local-event-tap", "Arn": queue_arn}])

    def listing(self) -> list[dict[str, Any]]:
        """The events seen so far, newest first."""
        with self._lock:
            while True:
                received = self.sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10)
                messages = received.get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    self._seen.append(json.loads(message["Body"]))
                self.sqs.delete_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )
            return list(reversed(self._seen))

    def publish_usage(self, account: str, cents: int) -> dict[str, Any]:
        bus = self.buses.get("UsageEventBus") or next(iter(self.buses.values()), None)
        if bus is None:
            raise LookupError("the template declares no event bus")
        detail = {"account": account, "amount_cents": cents, "idempotency_id": f"local-{uuid.uuid4().hex}"}
        entry = {
            "EventBusName": bus,
            "Source": USAGE_SOURCE,
            "DetailType": USAGE_DETAIL_TYPE,
            "Detail": json.dumps(detail),
        }
        answer = self.events.put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents failed: {answer['Entries']}")
        return {"event_id": answer["Entries"][0]["EventId"], "bus": bus, "detail": detail}


def _usage(fields: Mapping[str, str]) -> tuple[str, int]:
    account = fields.get("account", "").strip()
    if not account or len(account) > 255:
        raise ValueError("account: the account's key (the JWT sub), 1 to 255 characters")
    try:
        cents = int(fields.get("cents", ""))
    except ValueError as exc:
        raise ValueError("cents: a whole number of cents") from exc
    if not 0 <= cents <= MAX_CENTS:
        raise ValueError(f"cents: from 0 to {MAX_CENTS}")
    return account, cents


def _page(events: list[dict[str, Any]]) -> HttpResponse:
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>".format(
            *(html.escape(str(e.get(k, ""))) for k in ("time", "detail-type", "source")),
            html.escape(json.dumps(e.get("detail"))),
        )
        for e in events
    )
    body = f"""<form method="post" action="/_local/usage">
  <label>Account (JWT sub) <input name="account" value="alice" required></label>
  <label>Cents <input name="cents" type="number" min="0" value="1250" required></label>
  <button type="submit">Publish UsageRecorded</button>
</form>
<h2>Events on the stack's buses (newest first)</h2>
<table><tr><th>time</th><th>detail-type</th><th>source</th><th>detail</th></tr>{rows}</table>"""
    return html_page("Events", body)


@dataclass
class EventPages:
    tap: EventTap

    def __call__(self, request: HttpRequest) -> HttpResponse | None:
        if request.raw_path == "/_local/events" and request.method == "GET":
            events = self.tap.listing()
            return _page(events) if wants_html(request) else json_page({"events": events})
        if request.raw_path == "/_local/usage" and request.method == "POST":
            try:
                account, cents = _usage(form_fields(request))
            except ValueError as exc:
                return problem(400, str(exc))
            published = self.tap.publish_usage(account, cents)
            return see_other("/_local/events") if wants_html(request) else json_page(published, 202)
        return None


# ---------------------------------------------------------------------------- make usage
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.events", description="Publish UsageRecorded locally.")
    parser.add_argument("account", help="the account's key (the sub of its token, e.g. alice)")
    parser.add_argument("cents", type=int, help="the usage's amount in cents")
    parser.add_argument("--url", help="base URL of the running stack (default: the one `make dev` started)")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    def publish(url: str) -> httpx.Response:
        return httpx.post(f"{url}/_local/usage", json={"account": args.account, "cents": args.cents}, timeout=30)

    return ask_running_stack(args.url or running_stack_url(args.state_dir), publish)


if __name__ == "__main__":
    sys.exit(main())
