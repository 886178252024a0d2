"""Logger and Metrics shared by every function (service name and namespace come from the
environment: POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE).

Metrics are business events and failures, counted once where they happen, in one namespace, with
no dimension but Powertools' own `service`: an account key, an id, an address or a path is never
a dimension (it would make one metric per value). The inventory is in docs/runbook.md; a test
scans the code and what the tests emit for anything else.
"""

from __future__ import annotations

import threading
import warnings

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

# Metrics are recorded on business events only (an account created, a hold released...): a read
# records none, and Powertools would warn about it on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

_counting = threading.Lock()


def count(name: str, value: float = 1) -> None:
    """Count an event from any thread (Powertools Metrics is not thread-safe: the hold sweeper
    calls Stripe from a pool). Flushed with the invocation's other metrics."""
    with _counting:
        metrics.add_metric(name=name, unit="Count", value=value)
