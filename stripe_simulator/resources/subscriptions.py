"""Subscriptions: listing and cancelling (what account deletion needs). Creating them, with
Prices, SubscriptionSchedules and Invoices, belongs to the subscriptions work, which extends this
module; `new_subscription` makes one directly meanwhile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..routing import Route
from .common import ID, LIST_PARAMS, list_of, lookup

if TYPE_CHECKING:
    from ..core import Simulator

ENDED = ("canceled", "incomplete_expired")


def new_subscription(sim: Simulator, customer: str, price: str, *, status: str = "active") -> dict[str, Any]:
    now = sim.now()
    identifier = sim.new_id("sub")
    subscription = {
        "id": identifier,
        "object": "subscription",
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": "usd",
        "customer": customer,
        "default_payment_method": None,
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [{"id": sim.new_id("si"), "object": "subscription_item", "price": {"id": price}, "quantity": 1}],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={identifier}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": {},
        "start_date": now,
        "status": status,
    }
    sim.save(subscription)
    sim.emit("customer.subscription.created", subscription)
    return subscription


def cancel_now(sim: Simulator, subscription: dict[str, Any]) -> dict[str, Any]:
    subscription.update(status="canceled", canceled_at=sim.now(), ended_at=sim.now())
    sim.emit("customer.subscription.deleted", subscription)
    return subscription


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "subscription", id)


def cancel(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    subscription = lookup(sim, "subscription", id)
    if subscription["status"] in ENDED:
        from ..errors import invalid  # noqa: PLC0415

        raise invalid(f"No such subscription: '{id}'", code="resource_missing")
    return cancel_now(sim, subscription)


def list_all(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    customer, status = params.get("customer"), params.get("status")
    items = [
        s
        for s in sim.all("subscription")
        if (customer is None or s["customer"] == customer)
        and (status == "all" or (s["status"] == status if status else s["status"] not in ENDED))
    ]
    return list_of(sim, "/v1/subscriptions", items, params)


ROUTES = [
    Route(
        "GET",
        r"/v1/subscriptions",
        list_all,
        {**LIST_PARAMS, "customer": forms.ANY, "status": forms.ANY, "price": forms.ANY},
    ),
    Route("GET", rf"/v1/subscriptions/{ID}", retrieve),
    Route(
        "DELETE",
        rf"/v1/subscriptions/{ID}",
        cancel,
        {"invoice_now": forms.ANY, "prorate": forms.ANY, "cancellation_details": forms.ANY},
    ),
]
