"""Where a change comes from: the user (with the request's source IP and user agent), Stripe (a
webhook event) or a schedule; and the operation it belongs to, whose key and time stay the same
when the operation is delivered again (so what records the change can record it once)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from account_billing.core.clock import timestamp


class Actor(StrEnum):
    USER = "user"
    STRIPE = "stripe"
    SCHEDULE = "schedule"
    SYSTEM = "system"  # the service itself, e.g. checking an uploaded avatar


@dataclass(frozen=True, slots=True)
class Origin:
    """`operation` names one request, webhook event or scheduled run; `at` is its time (ISO 8601
    UTC, to the millisecond), the same on every delivery of it."""

    actor: Actor
    operation: str
    at: str
    source_ip: str | None = None
    user_agent: str | None = None


_current: ContextVar[Origin | None] = ContextVar("origin", default=None)


@contextmanager
def acting(origin: Origin) -> Iterator[Origin]:
    """While this lasts, changes without a user request of their own come from `origin` (a
    webhook's event, a schedule's run)."""
    token = _current.set(origin)
    try:
        yield origin
    finally:
        _current.reset(token)


def current_origin() -> Origin | None:
    return _current.get()


class _DeliveredEvent(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def created(self) -> int: ...


def stripe_origin(event: _DeliveredEvent) -> Origin:
    """A Stripe webhook event as the origin of what it changes: its id and creation time are
    the same on every delivery."""
    created = datetime.fromtimestamp(event.created, UTC) if event.created > 0 else datetime.now(UTC)
    return Origin(actor=Actor.STRIPE, operation=f"stripe:{event.id}", at=timestamp(created))
