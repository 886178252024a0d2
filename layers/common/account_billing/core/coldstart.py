"""Python's cyclic garbage collector, paused while a Lambda container starts and resumed once its
handler has given its first answer.

A cold start allocates a few hundred thousand objects (botocore's service models, pydantic's
schemas, Powertools, Stripe's SDK) and almost none of them become garbage, yet every 700
allocations the collector walks the young ones: measured in Lambda's layout (`make bench`),
collections took 75 ms of the boto3 yardstick's 550 ms of CPU, 100 ms of the account routes'
first answer and over 200 ms of the Stripe webhook's. Nothing a function does depends on when
cycles are collected (reference counting frees everything else at once), so pausing the
collector until the first answer is done changes only when the little cyclic garbage of the
start is freed: at the first collection after it.

Every handler module imports this module before anything else (an isort section of its own,
pyproject.toml) and wraps its handler in `resumes_collection`. Only in Lambda's runtime (which
sets AWS_LAMBDA_RUNTIME_API): tests and the local stack, which load handler modules in their own
process, keep their collector as it is.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from functools import wraps

# Whether this module paused the collector (and has not resumed it yet): it never resumes a
# collector someone else paused.
_paused = False


def in_lambda_runtime() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_RUNTIME_API"))


def pause_collection() -> None:
    """Pause the cyclic collector for the container's start (in Lambda's runtime only)."""
    global _paused  # noqa: PLW0603 - one container, one start
    if in_lambda_runtime() and gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """Resume the collector if `pause_collection` paused it."""
    global _paused  # noqa: PLW0603
    if _paused:
        _paused = False
        gc.enable()


def resumes_collection[**P, R](handler: Callable[P, R]) -> Callable[P, R]:
    """The handler, resuming the collector once its first answer is given (or it raised)."""

    @wraps(handler)
    def answer(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        finally:
            resume_collection()

    return answer


def collection_paused() -> bool:
    """Whether the collector is paused for the start (tests of the start read it)."""
    return _paused


pause_collection()
