"""Per-container singletons: settings, AWS clients and services are built once, when first
needed, and reused by every invocation of the container. Tests reset them between cases."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_singletons: list[Any] = []


def per_container[F: Callable[..., Any]](factory: F) -> F:
    """Cache `factory`'s result for the life of the container."""
    cached = cache(factory)
    _singletons.append(cached)
    return cached  # type: ignore[return-value]


def build_containers() -> None:
    """Build every per-container singleton now, as a container's first request would."""
    for cached in _singletons:
        cached()


def reset_containers() -> None:
    """Forget every per-container singleton (tests call this between cases)."""
    for cached in _singletons:
        cached.cache_clear()


# Bounded retries with backoff and short timeouts: an API call fails fast rather than hanging.
AWS_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
)


@per_container
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=AWS_CLIENT_CONFIG)


@per_container
def sesv2_client() -> Any:
    return boto3.client("sesv2", config=AWS_CLIENT_CONFIG)


@per_container
def events_client() -> Any:
    return boto3.client("events", config=AWS_CLIENT_CONFIG)
