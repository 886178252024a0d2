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

from .cards import Decline, TestCard

if TYPE_CHECKING:
    from .core import Simulator

VERSION = 1


def _private_out(known: dict[str, Any]) -> dict[str, Any]:
    """What the simulator knows privately of an object, as JSON (a test card as its fields)."""
    return {k: {"test_card": dataclasses.asdict(v)} if isinstance(v, TestCard) else v for k, v in known.items()}


def _card_in(fields: dict[str, Any]) -> TestCard:
    declines = {k: Decline(**v) if v else None for k, v in fields.items() if k.startswith("decline_on_")}
    return TestCard(**{**fields, **declines})


def _private_in(known: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _card_in(v["test_card"]) if isinstance(v, dict) and set(v) == {"test_card"} else v for k, v in known.items()
    }


def dump(sim: Simulator) -> dict[str, Any]:
    from .core import API_VERSION  # noqa: PLC0415 - core imports this module's caller

    def run() -> dict[str, Any]:
        copied: dict[str, Any] = json.loads(
            json.dumps(
                {
                    "version": VERSION,
                    "api_version": API_VERSION,
                    "objects": sim.objects,
                    "private": {k: _private_out(v) for k, v in sim._private.items()},
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
        sim._private = {k: _private_in(v) for k, v in state["private"].items()}
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
