"""Per-container singletons: settings, AWS clients and services are built once, when first
needed, and reused by every invocation of the container. Tests reset them between cases, and may
provide their own value for one of them (`providing`), as a constructor takes its collaborators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_events import EventBridgeClient
    from types_boto3_scheduler import EventBridgeSchedulerClient
    from types_boto3_sesv2 import SESV2Client
    from types_boto3_sqs import SQSClient

_singletons: list[Any] = []
_provided: dict[Callable[..., Any], Any] = {}


def per_container[T](factory: Callable[[], T]) -> Callable[[], T]:
    """Cache `factory`'s result for the life of the container."""
    cached = cache(factory)
    _singletons.append(cached)

    @wraps(factory)
    def instance() -> T:
        if instance in _provided:
            provided: T = _provided[instance]
            return provided
        return cached()

    return instance


def build_containers() -> None:
    """Build every per-container singleton now, as a container's first request would."""
    for cached in _singletons:
        cached()


def reset_containers() -> None:
    """Forget every per-container singleton (tests call this between cases)."""
    for cached in _singletons:
        cached.cache_clear()


@contextmanager
def providing[T](singleton: Callable[[], T], value: T) -> Iterator[T]:
    """While this lasts, every container's `singleton()` is `value` (tests hand in their own
    collaborators this way, e.g. the HTTP client Stripe is reached through)."""
    _provided[singleton] = value
    try:
        yield value
    finally:
        _provided.pop(singleton, None)


# Bounded retries with backoff and short timeouts: an API call fails fast rather than hanging.
AWS_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
)


@per_container
def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", config=AWS_CLIENT_CONFIG)


@per_container
def sesv2_client() -> SESV2Client:
    return boto3.client("sesv2", config=AWS_CLIENT_CONFIG)


@per_container
def events_client() -> EventBridgeClient:
    return boto3.client("events", config=AWS_CLIENT_CONFIG)


@per_container
def scheduler_client() -> EventBridgeSchedulerClient:
    return boto3.client("scheduler", config=AWS_CLIENT_CONFIG)


@per_container
def sqs_client() -> SQSClient:
    return boto3.client("sqs", config=AWS_CLIENT_CONFIG)
