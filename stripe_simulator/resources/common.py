"""Helpers shared by the resource modules: lists, lookups, card errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import StripeAPIError, invalid, missing

if TYPE_CHECKING:
    from ..core import Simulator


def lookup(sim: Simulator, kind: str, identifier: str, label: str | None = None, param: str = "id") -> dict[str, Any]:
    obj = sim.get(identifier, kind)
    if obj is None:
        raise missing(label or kind, identifier, param)
    return obj


def live_customer(sim: Simulator, identifier: str, param: str = "customer") -> dict[str, Any]:
    customer = sim.get(identifier, "customer")
    if customer is None or sim.private(identifier).get("deleted"):
        raise missing("customer", identifier, param)
    return customer


def list_of(sim: Simulator, path: str, items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """A Stripe list, newest first, with `limit`, `starting_after` and `created` filters."""
    limit = forms.integer(params, "limit", minimum=1) or 10
    if limit > 100:
        raise StripeAPIError(400, "This value must be less than or equal to 100.", param="limit")
    created = params.get("created")
    if isinstance(created, dict):
        items = [i for i in items if _within(i["created"], created)]
    elif isinstance(created, int):
        items = [i for i in items if i["created"] == created]
    ordered = sorted(items, key=lambda i: (i["created"], sim.sequence(i["id"])), reverse=True)
    ids = [i["id"] for i in ordered]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise invalid("You may only specify one of these parameters: ending_before, starting_after.")
    if after:
        if after not in ids:
            raise missing("object", after, "starting_after")
        ordered = ordered[ids.index(after) + 1 :]
    if before:
        if before not in ids:
            raise missing("object", before, "ending_before")
        earlier = ordered[: ids.index(before)]  # the page just before it, in the same order
        return {"object": "list", "data": earlier[-limit:], "has_more": len(earlier) > limit, "url": path}
    return {"object": "list", "data": ordered[:limit], "has_more": len(ordered) > limit, "url": path}


def _within(created: int, bounds: dict[str, int]) -> bool:
    checks = {
        "gt": lambda v: created > v,
        "gte": lambda v: created >= v,
        "lt": lambda v: created < v,
        "lte": lambda v: created <= v,
    }
    return all(checks[op](value) for op, value in bounds.items() if op in checks)


def card_error(decline: Any, **objects: Any) -> StripeAPIError:
    """A 402 card error, as a failed card check or authorization answers."""
    return StripeAPIError(
        402,
        decline.message,
        type="card_error",
        code=decline.code,
        decline_code=decline.decline_code,
        doc_url=f"https://docs.stripe.com/error-codes/{decline.code.replace('_', '-')}",
        **objects,
    )
