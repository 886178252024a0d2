"""The simulator's state as JSON and back, so a local stack can stop and start where it was (as
Stripe keeps a test-mode account's data): its objects and what it knows of them privately, their
creation order, idempotency keys' results, authorizations awaiting expiry, the salt that keeps
a card's fingerprint the same, and the events not yet delivered to the webhook endpoints (which
the restoring side adds again). Faults and the call log are test helpers: not kept."""

from __future__ import annotations

import dataclasses
import heapq
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Simulator

VERSION = 1


def dump(sim: Simulator) -> dict[str, Any]:
    from .core import API_VERSION  # noqa: PLC0415 - core imports this module's caller

    def run() -> dict[str, Any]:
        copied: dict[str, Any] = json.loads(
            json.dumps(
                {
                    "version": VERSION,
                    "api_version": API_VERSION,
                    "objects": sim.objects,
                    "private": sim._private,
                    "sequence": sim._sequence,
                    "idempotency": [
                        {"key": key, **dataclasses.asdict(saved)}
                        for (kind, key), saved in sim._saved.items()
                        if kind == "idem"
                    ],
                    "expiring": sim.expiry_heap,
                    "fingerprint_salt": sim._fingerprint_salt,
                    "undelivered": sim.webhooks.pending_event_ids(),
                }
            )
        )
        return copied

    result: dict[str, Any] = sim.run(run)
    return result


def load(sim: Simulator, state: dict[str, Any]) -> None:
    """Replace the simulator's state with a dump's (of this version and API version)."""
    from .core import API_VERSION, _Saved  # noqa: PLC0415

    if state.get("version") != VERSION or state.get("api_version") != API_VERSION:
        raise ValueError(f"a snapshot of version {state.get('version')}/{state.get('api_version')}, not {VERSION}")

    def run() -> None:
        sim.objects = dict(state["objects"])
        sim._private = dict(state["private"])
        sim._sequence = dict(state["sequence"])
        sim._saved = {
            ("idem", saved["key"]): _Saved(**{k: v for k, v in saved.items() if k != "key"})
            for saved in state["idempotency"]
        }
        sim.expiry_heap = [(int(at), str(intent)) for at, intent in state["expiring"]]
        heapq.heapify(sim.expiry_heap)
        sim._fingerprint_salt = str(state["fingerprint_salt"])
        for event_id in state["undelivered"]:
            if event_id in sim.objects:
                sim.webhooks.enqueue(sim.objects[event_id])

    sim.run(run)
