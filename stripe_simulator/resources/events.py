"""Events: every state change the simulator makes, retrievable as at Stripe."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..routing import Route
from .common import list_of, lookup

if TYPE_CHECKING:
    from ..core import Simulator


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "event", id)


def list_all(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    kind = params.get("type")
    types = params.get("types") or []
    items = [e for e in sim.all("event") if (kind is None or e["type"] == kind) and (not types or e["type"] in types)]
    return list_of(sim, "/v1/events", items, params)


ROUTES = [
    Route("v1.events.list", list_all),
    Route("v1.events.retrieve", retrieve),
]
