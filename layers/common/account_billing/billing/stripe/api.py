"""Every request to Stripe goes through here: one StripeClient (built at the first request, when
the secret key is fetched), the rate limiter, retries of 429 answers with exponential backoff and
jitter (stripe-python itself retries connection errors, 409 and 5xx), and `errors.translated`."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import stripe

from account_billing.billing.stripe.errors import StripeRateLimited, translated
from account_billing.billing.stripe.ratelimit import RateLimiter

RATE_LIMIT_ATTEMPTS = 4  # 429s: one call and three retries, 0.5 s, 1 s, 2 s apart (with jitter)


class StripeApi:
    def __init__(
        self,
        client: stripe.StripeClient | Callable[[], stripe.StripeClient],
        *,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limiter = limiter
        self._client = client if isinstance(client, stripe.StripeClient) else None
        self._factory = None if isinstance(client, stripe.StripeClient) else client
        self._lock = threading.Lock()
        self.sleep = sleep

    @property
    def client(self) -> stripe.StripeClient:
        """The client, built on first use (the secret key is fetched then, not at init)."""
        with self._lock:
            if self._client is None:
                if self._factory is None:
                    raise RuntimeError("no Stripe client")
                self._client = self._factory()
            return self._client

    def call[T](self, request: Callable[[stripe.StripeClient], T]) -> T:
        """Run one Stripe request, retrying 429s with exponential backoff and jitter."""
        for attempt in range(1, RATE_LIMIT_ATTEMPTS + 1):
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                with translated():
                    result = request(self.client)
            except StripeRateLimited:
                if self.limiter is not None:
                    self.limiter.throttle()
                if attempt == RATE_LIMIT_ATTEMPTS:
                    raise
                self.sleep(0.5 * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
                continue
            if self.limiter is not None:
                self.limiter.recover()
            return result
        raise AssertionError("unreachable")
