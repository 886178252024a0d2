"""EventBridge Scheduler, honored locally: moto stores schedules but never fires them, so the
stack's clock does. It lists the schedules in moto (those the template declares and those the
code creates), and delivers each one that is due to its target, one of the stack's functions
(invoked with the schedule's input) or queues (the input sent as the message body, as
Scheduler's SQS target does): one-time `at(...)` schedules at their time (deleted afterwards
with ActionAfterCompletion=DELETE), `rate(...)` and `cron(...)` ones on their recurrence,
within their start and end dates.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError

from local.functions import FunctionRuntime, InvocationError
from local.polling import Ticker
from local.resources import Provisioned, TemplateSchedule

log = logging.getLogger("local")


class UnsupportedExpression(ValueError):
    """A schedule expression the local clock does not understand."""


# ---------------------------------------------------------------------------- expressions
def parse_at(expression: str, timezone: str = "UTC") -> datetime:
    """The instant of `at(yyyy-mm-ddThh:mm:ss)` in the schedule's time zone."""
    match = re.fullmatch(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)", expression.strip())
    if not match:
        raise UnsupportedExpression(expression)
    return datetime.fromisoformat(match[1]).replace(tzinfo=ZoneInfo(timezone or "UTC"))


def parse_rate(expression: str) -> timedelta:
    match = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match or int(match[1]) < 1:
        raise UnsupportedExpression(expression)
    unit = match[2].rstrip("s") + "s"
    return timedelta(**{unit: int(match[1])})


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_DAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
_NO_NAMES: dict[str, int] = {}
# Each field of an AWS cron expression: lowest value, highest value, names.
_CRON_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, _NO_NAMES),  # minutes
    (0, 23, _NO_NAMES),  # hours
    (1, 31, _NO_NAMES),  # day of month
    (1, 12, _MONTHS),
    (1, 7, _DAYS),  # day of week, 1 = Sunday
    (1970, 2199, _NO_NAMES),  # year
)


def _cron_field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int] | None:
    """The values a cron field allows; None for any (`*` or `?`)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.upper().split(","):
        if not re.fullmatch(r"[\dA-Z*]+(-[\dA-Z]+)?(/\d+)?", part) or any(c in part for c in "LW#"):
            raise UnsupportedExpression(f"cron field {text!r}")
        span, _, step = part.partition("/")
        if span == "*":
            start, end = low, high
        else:
            first, _, last = span.partition("-")
            start = names.get(first) or int(first)
            end = (names.get(last) or int(last)) if last else (high if step else start)
        values.update(range(start, end + 1, int(step or 1)))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    fields: tuple[frozenset[int] | None, ...]

    @classmethod
    def parse(cls, expression: str) -> Cron:
        match = re.fullmatch(r"cron\((.+)\)", expression.strip())
        parts = match[1].split() if match else []
        if len(parts) != 6:
            raise UnsupportedExpression(expression)
        fields = tuple(_cron_field(part, *spec) for part, spec in zip(parts, _CRON_FIELDS, strict=True))
        return cls(fields)

    def matches(self, moment: datetime) -> bool:
        day_of_week = (moment.weekday() + 1) % 7 + 1  # 1 = Sunday, as in AWS cron
        values = (moment.minute, moment.hour, moment.day, moment.month, day_of_week, moment.year)
        return all(allowed is None or value in allowed for allowed, value in zip(self.fields, values, strict=True))


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


# ---------------------------------------------------------------------------- payloads
def target_payload(schedule: dict[str, Any], scheduled: datetime, *, rule: bool, region: str, account: str) -> Any:
    """What the target function receives: the target's Input with Scheduler's context
    attributes filled in, or an EventBridge "Scheduled Event" for a SAM `Schedule` event."""
    stamp = scheduled.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = schedule["Target"].get("Input")
    if text is not None:
        for attribute, value in {
            "schedule-arn": schedule["Arn"],
            "scheduled-time": stamp,
            "execution-id": str(uuid.uuid4()),
            "attempt-number": "1",
        }.items():
            text = text.replace(f"<aws.scheduler.{attribute}>", value)
        return json.loads(text)
    if rule:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": account,
            "time": stamp,
            "region": region,
            "resources": [schedule["Arn"]],
            "detail": {},
        }
    return {}


# ---------------------------------------------------------------------------- the clock
@dataclass
class _Tracked:
    modified: Any
    detail: dict[str, Any]
    first_seen: datetime
    next_rate: datetime | None = None
    last_cron_minute: datetime | None = None
    done: bool = False
    failures: int = 0
    retry_at: datetime | None = None
    offset: float = 0.0  # how far the local clock was ahead when the schedule was first seen


@dataclass
class ScheduleClock:
    """Fires due schedules whose target is one of the stack's functions or queues."""

    scheduler: Any  # a boto3 EventBridge Scheduler client on moto
    provisioned: Provisioned
    runtime: FunctionRuntime
    region: str
    account: str
    sqs: Any = None  # a boto3 SQS client on moto, for schedules that target a queue
    interval: float = 1.0
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # How far the local clock is ahead of the machine's (`local.clock`): the functions write
    # `at(...)` times by the machine's clock, so a schedule fires that much later on the local one.
    offset: Callable[[], float] = field(default=lambda: 0.0)
    max_attempts: int = 3
    retry_after: timedelta = timedelta(seconds=5)
    _tracked: dict[str, _Tracked] = field(default_factory=dict)
    _ticker: Ticker | None = None
    _warned: set[str] = field(default_factory=set)
    _tick_lock: threading.Lock = field(default_factory=threading.Lock)

    # -------------------------------------------------------------- thread
    def start(self) -> None:
        self._ticker = Ticker("local-scheduler", self.interval, self.tick, "the local scheduler")
        self._ticker.start()

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()

    # -------------------------------------------------------------- firing
    def _schedules(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self.scheduler.get_paginator("list_schedules").paginate(State="ENABLED"):
            found.extend(page["Schedules"])
        return found

    def _rule(self, group: str, name: str) -> bool:
        return any(s.eventbridge_rule for s in self.provisioned.schedules if (s.group, s.name) == (group, name))

    def tick(self) -> list[str]:
        """Fire every due schedule once; the names of those fired."""
        with self._tick_lock:
            return self._tick()

    def _tick(self) -> list[str]:
        now = self.now()
        fired = []
        summaries = [s for s in self._schedules() if self._target(s["Target"]["Arn"])]
        live = {s["Arn"] for s in summaries}
        for arn in set(self._tracked) - live:
            del self._tracked[arn]
        for summary in summaries:
            tracked = self._tracked.get(summary["Arn"])
            if tracked is None or tracked.modified != summary.get("LastModificationDate"):
                detail = self.scheduler.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
                tracked = _Tracked(summary.get("LastModificationDate"), detail, first_seen=now, offset=self.offset())
                self._tracked[summary["Arn"]] = tracked
            if self._due(tracked, now):
                self._fire(tracked, now)
                fired.append(f"{summary['GroupName']}/{summary['Name']}")
        return fired

    def one_time_instants(self, start: datetime, end: datetime) -> list[datetime]:
        """When, on the local clock, the one-time schedules seen so far fire within (start, end]."""
        instants = set()
        with self._tick_lock:
            for tracked in self._tracked.values():
                expression = tracked.detail["ScheduleExpression"]
                if tracked.done or not expression.startswith("at("):
                    continue
                try:
                    at = parse_at(expression, tracked.detail.get("ScheduleExpressionTimezone") or "UTC")
                except UnsupportedExpression:
                    continue
                instant = at + timedelta(seconds=tracked.offset)
                if start < instant <= end:
                    instants.add(instant)
        return sorted(instants)

    def _due(self, tracked: _Tracked, now: datetime) -> bool:
        if tracked.done:
            return False
        if tracked.retry_at is not None:
            return now >= tracked.retry_at
        detail = tracked.detail
        expression, timezone = detail["ScheduleExpression"], detail.get("ScheduleExpressionTimezone") or "UTC"
        try:
            if expression.startswith("at("):
                return now >= parse_at(expression, timezone) + timedelta(seconds=tracked.offset)
            return self._recurrence_due(tracked, now, expression, timezone)
        except UnsupportedExpression:
            if detail["Arn"] not in self._warned:
                self._warned.add(detail["Arn"])
                log.warning("schedule %s: the local clock cannot run %r", detail["Name"], expression)
            return False

    @staticmethod
    def _recurrence_due(tracked: _Tracked, now: datetime, expression: str, timezone: str) -> bool:
        start, end = _instant(tracked.detail.get("StartDate")), _instant(tracked.detail.get("EndDate"))
        if (start and now < start) or (end and now > end):
            return False
        if expression.startswith("rate("):
            period = parse_rate(expression)
            if tracked.next_rate is None:
                tracked.next_rate = (start or tracked.first_seen) + period
            if now < tracked.next_rate:
                return False
            tracked.next_rate = now + period
            return True
        cron = Cron.parse(expression)
        minute = now.astimezone(ZoneInfo(timezone)).replace(second=0, microsecond=0)
        if minute == tracked.last_cron_minute or not cron.matches(minute):
            return False
        tracked.last_cron_minute = minute
        return True

    def _fire(self, tracked: _Tracked, now: datetime) -> None:
        detail = tracked.detail
        one_time = detail["ScheduleExpression"].startswith("at(")
        try:
            self.invoke(detail, now)
        except InvocationError:
            tracked.failures += 1
            if tracked.failures < self.max_attempts:
                tracked.retry_at = now + self.retry_after
                return
            log.error("schedule %s: giving up after %d attempts", detail["Name"], tracked.failures)
        tracked.failures, tracked.retry_at = 0, None
        if one_time:
            tracked.done = True
            if detail.get("ActionAfterCompletion") == "DELETE":
                self.scheduler.delete_schedule(Name=detail["Name"], GroupName=detail["GroupName"])

    def _target(self, arn: str) -> str | None:
        """What a schedule's target is here: a function's logical id, `queue:<url>`, or None."""
        if function := self.provisioned.function_for_arn(arn):
            return function
        if self.sqs is not None and (queue := self.provisioned.queue_for_arn(arn)):
            return f"queue:{queue}"
        return None

    def invoke(self, detail: dict[str, Any], scheduled: datetime) -> Any:
        function = self._target(detail["Target"]["Arn"])
        if function is None:
            raise LookupError(f"schedule {detail['Name']} targets {detail['Target']['Arn']}, nothing of this stack")
        payload = target_payload(
            detail,
            scheduled,
            rule=self._rule(detail["GroupName"], detail["Name"]),
            region=self.region,
            account=self.account,
        )
        if function.startswith("queue:"):
            return self._send(detail, function.removeprefix("queue:"), payload)
        started = time.monotonic()
        outcome = "error"
        try:
            result = self.runtime.invoke(function, payload)
            outcome = "ok"
            return result
        finally:
            elapsed = (time.monotonic() - started) * 1000
            log.info("SCHEDULE %s/%s %s %.0f ms %s", detail["GroupName"], detail["Name"], outcome, elapsed, function)

    def _send(self, detail: dict[str, Any], queue_url: str, payload: Any) -> dict[str, Any]:
        """Scheduler's SQS target: the input is the message's body."""
        try:
            sent = self.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(payload))
        except (ClientError, BotoCoreError) as exc:
            log.info("SCHEDULE %s/%s error %s", detail["GroupName"], detail["Name"], queue_url)
            raise InvocationError(f"schedule {detail['Name']}: sending to {queue_url} failed: {exc}") from exc
        log.info("SCHEDULE %s/%s sent to %s", detail["GroupName"], detail["Name"], queue_url.rsplit("/", 1)[-1])
        return {"queue": queue_url, "message_id": sent["MessageId"]}

    # -------------------------------------------------------------- on demand
    def find(self, name: str) -> tuple[dict[str, Any] | None, str]:
        """The schedule (or, for a function name, its template schedule if any) and its function.

        `name` may be a schedule's name in moto, a template schedule's event name or resource id,
        or a function's logical id or code folder (`preauth_release`)."""
        for summary in self._schedules() + self._disabled():
            function = self._target(summary["Target"]["Arn"])
            if function and summary["Name"] == name:
                return self.scheduler.get_schedule(Name=name, GroupName=summary["GroupName"]), function
        declared: TemplateSchedule | None = next((s for s in self.provisioned.schedules if name in s.aliases), None)
        function_name = self._function_named(name)
        if declared is None and function_name is not None:
            declared = next((s for s in self.provisioned.schedules if s.function == function_name), None)
        if declared is not None:
            return self.scheduler.get_schedule(Name=declared.name, GroupName=declared.group), declared.function
        if function_name is not None:
            return None, function_name
        raise LookupError(f"no schedule or function named {name!r}")

    def _disabled(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self.scheduler.get_paginator("list_schedules").paginate(State="DISABLED"):
            found.extend(page["Schedules"])
        return found

    def _function_named(self, name: str) -> str | None:
        for logical_id, function in self.runtime.functions.items():
            if name in (logical_id, function.name, function.code_dir.name):
                return logical_id
        return None

    def run_now(self, name: str) -> dict[str, Any]:
        """Run a scheduled function now, as its schedule would (the schedule is left as it is)."""
        detail, function = self.find(name)
        now = self.now()
        if detail is None:
            result = self.runtime.invoke(function, {})
            return {"schedule": None, "function": function, "result": result}
        result = self.invoke(detail, now)
        return {"schedule": f"{detail['GroupName']}/{detail['Name']}", "function": function, "result": result}

    def listing(self) -> list[dict[str, Any]]:
        rows = []
        for summary in self._schedules() + self._disabled():
            function = self._target(summary["Target"]["Arn"])
            if function:
                rows.append(
                    {
                        "name": summary["Name"],
                        "group": summary["GroupName"],
                        "state": summary["State"],
                        "function": function,
                    }
                )
        return rows
