"""A thread-safe token bucket that keeps Stripe calls under a configured rate, and slows down
when Stripe answers 429 (halving the rate, then recovering step by step)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.ceiling = rate
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 10)
        self._tokens = self.burst
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()
        self.throttled = 0  # 429s reported

    def acquire(self) -> None:
        """Wait for the next slot."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1 - 1e-9:  # (float rounding must not leave a caller spinning)
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            self._sleep(wait)

    def throttle(self) -> None:
        """Stripe said 429: halve the rate (down to one call a second)."""
        with self._lock:
            self.throttled += 1
            self.rate = max(1.0, self.rate / 2)
            self._tokens = 0

    def recover(self) -> None:
        """A call went through: creep back toward the configured rate."""
        with self._lock:
            if self.rate < self.ceiling:
                self.rate = min(self.ceiling, self.rate + self.ceiling / 20)


def workers_for(rate: float) -> int:
    """Threads enough to keep `rate` Stripe calls a second busy through Stripe's latency
    (a few hundred milliseconds a call), within what one Lambda sensibly runs."""
    return max(2, min(32, math.ceil(rate)))
