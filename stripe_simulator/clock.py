"""The simulator's clock: real time by default, moved by hand in tests."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Seconds since the epoch, like Stripe's `created`. `advance` moves it forward;
    a frozen clock only moves when told to."""

    def __init__(self, start: float | None = None, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at = (start if start is not None else time.time()) if frozen else None
        if start is not None and not frozen:
            self._offset = start - time.time()

    def now(self) -> int:
        return int(self.time())

    def time(self) -> float:
        with self._lock:
            return self._frozen_at if self._frozen_at is not None else time.time() + self._offset

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, delta: timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
