"""The interactive share of Stripe's rate limit, shared by every container (DESIGN §10).

Stripe limits requests per second per Stripe account, not per container: a limiter in each
container lets a hundred containers send a hundred times the limit. Card flows (collecting a
card, adding it) therefore take the Stripe requests they are about to make from one budget of
`stripe_interactive_rate` requests a second, counted in DynamoDB (`core.ratelimit_windows`,
one-second windows) before any of them is sent. When a second's budget is spent the caller gets
429 with `Retry-After`, before anything happened at Stripe; Stripe itself never has to refuse.

The budget is split over a few counter items (`LIMIT#stripe-calls#<n>`), each taking its share of
the rate, so no counter takes more than a few hundred writes a second; a request tries a second
counter before it gives up. Background work (hold releases, detaches, default cards) has its own
share, enforced by the queue's workers (`billing.tasks`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import timedelta

from botocore.exceptions import ClientError

from account_billing.core.errors import TooManyRequests
from account_billing.core.observability import metrics
from account_billing.core.ratelimit_windows import LimitReached, WindowCounters, WindowLimit

SCOPE = "stripe-calls"
# DynamoDB's answers when it throttles a request (after botocore's own retries).
THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
# Stripe requests a second one counter item carries: a card addition takes two or three in one
# write, so a counter takes at most a couple of hundred writes a second.
REQUESTS_PER_COUNTER = 400
WINDOW = timedelta(seconds=1)


def counters_for(rate: int) -> int:
    """How many counter items carry `rate` requests a second."""
    return max(1, math.ceil(rate / REQUESTS_PER_COUNTER))


class StripeBusy(TooManyRequests):
    kind = "payment-provider-busy"
    title = "Too many card requests right now; retry shortly"


class StripeBudget:
    def __init__(
        self,
        counters: WindowCounters,
        rate: int,
        *,
        choose: Callable[[int], int] = random.randrange,
    ) -> None:
        self.counters = counters
        self.shards = counters_for(rate)
        self.limit = WindowLimit(SCOPE, max(1, rate // self.shards), WINDOW)
        self.choose = choose

    def take(self, requests: int) -> None:
        """Take `requests` Stripe requests from this second's budget, or raise `StripeBusy`
        (429, Retry-After) having taken nothing. A counter DynamoDB throttles counts as spent:
        the caller is told to come back, never answered 5xx, and Stripe is not called blind."""
        first = self.choose(self.shards)
        tried = [first] if self.shards == 1 else [first, (first + 1 + self.choose(self.shards - 1)) % self.shards]
        retry_after = 1
        for shard in tried:
            try:
                self.counters.count(self.limit, str(shard), amount=requests)
            except LimitReached as exc:
                retry_after = exc.retry_after
                continue
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in THROTTLED:
                    raise
                continue
            return
        metrics.add_metric(name="StripeBudgetSpent", unit="Count", value=1)
        raise StripeBusy(
            "Card requests are busy right now; retry in a moment.",
            retry_after_seconds=retry_after,
        )
