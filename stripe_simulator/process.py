"""The process-wide simulator that the gateway uses when STRIPE_MODE=simulator (tests and the
local stack), so every function of a process sees the same Stripe state."""

from __future__ import annotations

import threading

from .core import Simulator

_lock = threading.Lock()
_default: list[Simulator | None] = [None]


def install(simulator: Simulator | None) -> Simulator | None:
    """Make `simulator` the process's Stripe (None forgets it); returns the previous one."""
    with _lock:
        previous, _default[0] = _default[0], simulator
    return previous


def default_simulator() -> Simulator:
    """The installed simulator, created on first use with a real clock."""
    with _lock:
        simulator = _default[0]
        if simulator is None:
            simulator = _default[0] = Simulator()
        return simulator


def http_client() -> object:
    """The HTTP client of the process's simulator: what the gateway plugs into StripeClient."""
    return default_simulator().http_client()
