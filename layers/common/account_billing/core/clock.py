"""Time, in one place: the clock a service reads (`Clock`, handed in so tests can move it), and
the textual forms times are stored in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

# What a service reads the time from; tests hand in a clock of their own.
type Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The production clock: the current time, in UTC."""
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC to the millisecond with a `Z`, as items and responses carry times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def timestamp_to_second(moment: datetime) -> str:
    """Fixed-width UTC time to the second: sorts as text, and EventBridge `at()` takes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """A time stored by `timestamp` or `timestamp_to_second`."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def from_epoch(seconds: int | float | str) -> datetime:
    """A time Stripe gives in seconds since the epoch."""
    return datetime.fromtimestamp(int(seconds), UTC)


def from_epoch_ms(milliseconds: int) -> datetime:
    """A time given in milliseconds since the epoch (API Gateway's `timeEpoch`)."""
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def epoch_seconds(moment: datetime) -> int:
    """Seconds since the epoch, as DynamoDB's TTL attributes take them."""
    return int(moment.timestamp())
