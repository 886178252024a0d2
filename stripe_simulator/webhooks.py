"""Events delivered to webhook endpoints, signed as Stripe signs them (`Stripe-Signature:
t=<unix time>,v1=<HMAC-SHA256 of "<t>.<payload>" with the endpoint secret>`), so
`stripe.Webhook.construct_event` verifies them.

Delivery is asynchronous, as at Stripe: events wait in a queue until `deliver_pending()` runs
(tests call it) or a delivery thread does (`start()`, for the local stack). A delivery that fails
(an exception or a non-2xx answer) stays queued and is tried again, up to `max_attempts`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Simulator

log = logging.getLogger("stripe_simulator")

# Receives the raw body and the headers of one delivery; answers an HTTP status.
Deliver = Callable[[bytes, dict[str, str]], int]


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header of `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class WebhookEndpoint:
    """Where events go. `enabled_events` filters them by type (`*`: every event)."""

    deliver: Deliver
    secret: str = field(default_factory=lambda: "whsec_" + secrets.token_hex(16))
    enabled_events: tuple[str, ...] = ("*",)

    @classmethod
    def http(cls, url: str, secret: str | None = None, enabled_events: tuple[str, ...] = ("*",)) -> WebhookEndpoint:
        """An endpoint reached by an HTTP POST (the local stack's webhook route)."""

        def post(body: bytes, headers: dict[str, str]) -> int:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    return int(response.status)
            except urllib.error.HTTPError as exc:
                return int(exc.code)

        return cls(post, secret or "whsec_" + secrets.token_hex(16), enabled_events)

    def __post_init__(self) -> None:
        from .sdk import API_VERSION, webhook_event_types  # noqa: PLC0415 - it imports stripe

        unknown = sorted(set(self.enabled_events) - webhook_event_types())
        if unknown:
            raise ValueError(f"enabled_events {unknown} are not event types of API version {API_VERSION}")

    def wants(self, event_type: str) -> bool:
        return "*" in self.enabled_events or event_type in self.enabled_events


@dataclass
class _Delivery:
    endpoint: WebhookEndpoint
    event_id: str
    attempts: int = 0


class WebhookQueue:
    def __init__(self, simulator: Simulator, max_attempts: int = 5) -> None:
        self.simulator = simulator
        self.endpoints: list[WebhookEndpoint] = []
        self.max_attempts = max_attempts
        self.delivered: list[tuple[str, int]] = []  # (event id, status) of every attempt
        self._pending: list[_Delivery] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def enqueue(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._pending.extend(_Delivery(e, event["id"]) for e in self.endpoints if e.wants(event["type"]))

    def pending_event_ids(self) -> list[str]:
        """The events still to deliver, oldest first (once each, whatever the endpoints)."""
        with self._lock:
            return list(dict.fromkeys(delivery.event_id for delivery in self._pending))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def deliver_pending(self) -> int:
        """Deliver every queued event once, oldest first; the number delivered successfully."""
        with self._lock:
            batch, self._pending = self._pending, []
        done = 0
        retry: list[_Delivery] = []
        for delivery in batch:
            event = self.simulator.objects[delivery.event_id]
            payload = json.dumps(event, indent=2)
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(payload, delivery.endpoint.secret),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            }
            delivery.attempts += 1
            try:
                status = delivery.endpoint.deliver(payload.encode(), headers)
            except Exception:  # a failed delivery is retried, as Stripe retries
                log.exception("webhook delivery of %s failed", delivery.event_id)
                status = 0
            self.delivered.append((delivery.event_id, status))
            if 200 <= status < 300:
                done += 1
            elif delivery.attempts < self.max_attempts:
                retry.append(delivery)
        with self._lock:
            self._pending = retry + self._pending
        return done

    def start(self, interval: float = 0.5) -> None:
        """Deliver in a background thread every `interval` seconds (the local stack)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="stripe-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.deliver_pending()
