"""A background thread that calls one function every `interval` seconds until stopped: how the
local stack plays the services that act on their own (EventBridge Scheduler firing schedules,
Lambda polling its event sources). A failing call is logged and tried again next time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("local")


class Ticker:
    def __init__(self, name: str, interval: float, tick: Callable[[], object], what: str) -> None:
        self.name = name
        self.interval = interval
        self.tick = tick
        self.what = what  # for the log: "the local scheduler", ...
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:
                log.exception("%s failed; retrying", self.what)
