"""One clock for the whole local stack, moved forward on demand, as Stripe's test clocks are.

The Stripe simulator, EventBridge Scheduler's schedules (`local.schedules`) and DynamoDB's TTL
(`local.ttl`) all read `LocalClock`: the machine's time plus an offset that only grows. Moving it
(`make advance DAYS=31`, the `/_local/clock` page) plays what happens meanwhile in the order it
would happen: one-time schedules fire at their own instants (a hold's release before its
authorization would expire), and at each of those instants Stripe first applies what fell due
(renewals invoiced and charged, scheduled downgrades and cancellations, failed renewals going
`past_due`, authorizations expiring after seven days), emitting its events to the webhook; then
recurring schedules catch up once and expired items go.

The functions themselves read the machine's time (production code has no fake clock), as a
server does whose Stripe customers live on a test clock. What they write by it (an `at(...)`
schedule, a TTL attribute) is read on the local clock shifted by how far ahead it was when the
stack first saw it: a hold placed after moving a month is still released a day later.

    python -m local.clock advance --days 31      # make advance DAYS=31
    python -m local.clock                        # where the clock stands
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import math
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from local.apigw import HttpRequest, HttpResponse
from local.config import STATE_DIR
from local.schedule import ask_running_stack, running_stack_url
from local.webpage import form_fields, html_page, json_page, problem, see_other, wants_html

log = logging.getLogger("local")

MAX_ADVANCE = timedelta(days=400)  # a bit more than a year at once


class LocalClock:
    """Seconds since the epoch: the machine's time plus `offset` (thread-safe). The interface of
    the Stripe simulator's clock (`time`, `now`, `datetime`, `advance`), so the simulator reads it."""

    def __init__(self, offset: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._offset = float(offset)

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def time(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def now(self) -> int:
        return int(self.time())

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, delta: timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        if seconds < 0:
            raise ValueError("the local clock only moves forward")
        with self._lock:
            self._offset += seconds


@dataclass
class TimeMachine:
    """Moves the clock and plays what falls due, each part through its own service."""

    clock: LocalClock
    fire_schedules: Callable[[], list[str]]  # the schedule clock's tick
    schedule_instants: Callable[[datetime, datetime], list[datetime]]  # one-time schedules due in (start, end]
    expire_items: Callable[[], int]  # the TTL sweeper
    stripe_tick: Callable[[], None] | None = None  # the simulator applies what fell due
    stripe_events: Callable[[], int] | None = None  # how many events the simulator has emitted
    settle: Callable[[], None] | None = None  # deliver what the schedules queued before moving on
    interval: float = 5.0  # as time passes on its own: how often Stripe and TTL catch up
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="local-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self._lock:
                    if self.stripe_tick is not None:
                        self.stripe_tick()
                    self.expire_items()
            except Exception:
                log.exception("the local clock failed; retrying")

    def status(self) -> dict[str, Any]:
        now = self.clock.datetime()
        return {
            "now": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "offset_seconds": round(self.clock.offset),
            "offset_days": round(self.clock.offset / 86400, 3),
        }

    def advance(self, delta: timedelta) -> dict[str, Any]:
        if delta <= timedelta(0) or delta > MAX_ADVANCE:
            raise ValueError(f"advance by more than nothing and at most {MAX_ADVANCE.days} days")
        with self._lock:
            events_before = self.stripe_events() if self.stripe_events else 0
            fired = self.fire_schedules()  # what is due now, and every schedule noted at this time
            if self.settle is not None:
                self.settle()
            expired = self.expire_items()  # and every item
            start = self.clock.datetime()
            target = start + delta
            for instant in [*self.schedule_instants(start, target), target]:
                self.clock.advance(max(0.0, (instant - self.clock.datetime()).total_seconds()))
                if self.stripe_tick is not None:
                    self.stripe_tick()
                fired.extend(self.fire_schedules())
                if self.settle is not None:
                    self.settle()
            expired += self.expire_items()
            events = (self.stripe_events() if self.stripe_events else 0) - events_before
        return {
            **self.status(),
            "advanced_seconds": int(delta.total_seconds()),
            "schedules_fired": fired,
            "items_expired": expired,
            "stripe_events": events,
        }


# ---------------------------------------------------------------------------- the page
def _delta(fields: Mapping[str, str]) -> timedelta:
    try:
        days = float(fields.get("days") or 0)
        hours = float(fields.get("hours") or 0)
    except ValueError as exc:
        raise ValueError("days and hours are numbers") from exc
    if not (math.isfinite(days) and math.isfinite(hours)) or abs(days) + abs(hours) / 24 > MAX_ADVANCE.days:
        raise ValueError(f"advance by more than nothing and at most {MAX_ADVANCE.days} days")
    return timedelta(days=days, hours=hours)


def _page(status: Mapping[str, Any], result: Mapping[str, Any] | None = None) -> HttpResponse:
    done = ""
    if result is not None:
        done = f"<h2>Moved</h2><pre>{html.escape(json.dumps(result, indent=2))}</pre>"
    body = f"""<p>Local time: <strong id="now">{html.escape(str(status["now"]))}</strong>
({status["offset_days"]} days ahead of this machine).</p>
<p>Moving it runs what falls due meanwhile: Stripe renewals, scheduled plan changes and cancellations,
expiring authorizations (with their webhooks), hold releases (EventBridge Scheduler) and
expired unverified addresses (DynamoDB TTL). It never moves back.</p>
<form method="post" action="/_local/clock/advance">
  <label>Days <input name="days" type="number" min="0" step="any" value="31"></label>
  <label>Hours <input name="hours" type="number" min="0" step="any" value="0"></label>
  <button type="submit">Advance</button>
</form>{done}"""
    return html_page("Local clock", body)


@dataclass
class ClockPages:
    """`GET /_local/clock` (JSON, or a page with a form); `POST /_local/clock/advance` with
    `days` and/or `hours` (a form or JSON)."""

    machine: TimeMachine

    def __call__(self, request: HttpRequest) -> HttpResponse | None:
        path = request.raw_path
        if path == "/_local/clock" and request.method == "GET":
            status = self.machine.status()
            return _page(status) if wants_html(request) else json_page(status)
        if path == "/_local/clock/advance" and request.method == "POST":
            try:
                result = self.machine.advance(_delta(form_fields(request)))
            except ValueError as exc:
                return problem(400, str(exc))
            if wants_html(request):
                return _page(self.machine.status(), result)
            return json_page(result)
        if path == "/_local/clock/advance" and request.method == "GET":
            return see_other("/_local/clock")
        return None


# ---------------------------------------------------------------------------- make advance
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.clock", description="Show or move the local clock.")
    parser.add_argument("command", nargs="?", choices=["show", "advance"], default="show")
    parser.add_argument("--days", type=float, default=0)
    parser.add_argument("--hours", type=float, default=0)
    parser.add_argument("--url", help="base URL of the running stack (default: the one `make dev` started)")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    def ask(url: str) -> httpx.Response:
        if args.command == "advance":
            body = {"days": str(args.days), "hours": str(args.hours)}
            return httpx.post(f"{url}/_local/clock/advance", json=body, timeout=600)
        return httpx.get(f"{url}/_local/clock", timeout=10)

    return ask_running_stack(args.url or running_stack_url(args.state_dir), ask)


if __name__ == "__main__":
    sys.exit(main())
