"""Racing calls as separate Lambda containers would: one service per thread, all released at once.

(A Powertools resolver keeps the current event on a module-level singleton, as Lambda serves
one request per container; so races run the domain code a handler calls, never one handler from
several threads.)"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

from account_billing.core.errors import ServiceError


def race[S](calls: list[Callable[[S], Any]], container: Callable[[], S]) -> list[int]:
    """Run each call with its own `container()`, all at the same moment; return the HTTP status
    each would have answered (200, or the status of the `ServiceError` it raised)."""
    services = [container() for _ in calls]
    barrier = Barrier(len(calls))

    def run(index: int) -> int:
        barrier.wait()
        try:
            calls[index](services[index])
        except ServiceError as exc:
            return exc.status
        return 200

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, range(len(calls))))
