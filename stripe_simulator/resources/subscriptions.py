"""Subscriptions: the object (one item, on a monthly Price), listing, retrieving and cancelling.
Creating and changing them, with SubscriptionSchedules and Invoices, is in
`subscription_changes`; `new_subscription` also makes one directly (tests set up state with it)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import invalid
from ..routing import Route
from .common import list_of, lookup
from .prices import plan_of

if TYPE_CHECKING:
    from ..core import Simulator

ENDED = ("canceled", "incomplete_expired")


def add_month(moment: int, anchor: int | None = None) -> int:
    """One calendar month later, keeping the anchor's day where the month has it (Stripe's rule)."""
    start = datetime.fromtimestamp(moment, UTC)
    day = datetime.fromtimestamp(anchor if anchor is not None else moment, UTC).day
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    day = min(day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def new_item(sim: Simulator, subscription: str, price: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    return {
        "id": sim.new_id("si", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": sim.now(),
        "current_period_end": end,
        "current_period_start": start,
        "discounts": [],
        "metadata": {},
        "plan": plan_of(price),
        "price": price,
        "quantity": 1,
        "subscription": subscription,
        "tax_rates": [],
    }


def set_price(item: dict[str, Any], price: dict[str, Any]) -> None:
    item.update(price=price, plan=plan_of(price))


def new_subscription(
    sim: Simulator,
    customer: str,
    price: str | dict[str, Any],
    *,
    status: str = "active",
    default_payment_method: str | None = None,
    metadata: dict[str, str] | None = None,
    save: bool = True,
) -> dict[str, Any]:
    """A subscription to `price` (an id or the Price) that starts now, its first period a month;
    `save=False` builds it without storing it or telling anyone (a create that may still fail)."""
    if isinstance(price, str):
        price = lookup(sim, "price", price, param="items[0][price]")
    now = sim.now()
    identifier = sim.new_id("sub")
    subscription = {
        "id": identifier,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": now,
        "billing_cycle_anchor_config": None,
        # "If no value is passed, the default is `flexible`" (SubscriptionCreateParamsBillingMode).
        "billing_mode": {"flexible": {"proration_discounts": None}, "type": "flexible", "updated_at": None},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": now,
        "currency": price["currency"],
        "customer": customer,
        "days_until_due": None,
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": {
            "object": "list",
            "data": [new_item(sim, identifier, price, now, add_month(now))],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={identifier}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata or {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": now,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }
    if save:
        sim.save(subscription)
        sim.emit("customer.subscription.created", subscription)
    return subscription


def cancel_now(sim: Simulator, subscription: dict[str, Any]) -> dict[str, Any]:
    subscription.update(status="canceled", canceled_at=sim.now(), ended_at=sim.now())
    subscription["cancellation_details"]["reason"] = "cancellation_requested"
    sim.emit("customer.subscription.deleted", subscription)
    return subscription


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "subscription", id)


def cancel(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    subscription = lookup(sim, "subscription", id)
    if subscription["status"] in ENDED:
        raise invalid(f"No such subscription: '{id}'", code="resource_missing")
    return cancel_now(sim, subscription)


def list_all(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    customer, status, price = params.get("customer"), params.get("status"), params.get("price")
    items = [
        s
        for s in sim.all("subscription")
        if (customer is None or s["customer"] == customer)
        and (price is None or s["items"]["data"][0]["price"]["id"] == price)
        and _status_matches(s["status"], status)
    ]
    return list_of(sim, "/v1/subscriptions", items, params)


def _status_matches(status: str, wanted: str | None) -> bool:
    """Without a status filter, ended subscriptions are left out, as Stripe lists them."""
    if wanted == "all":
        return True
    if wanted is None:
        return status not in ENDED
    if wanted == "ended":
        return status in ENDED
    return status == wanted


ROUTES = [
    Route("v1.subscriptions.list", list_all),
    Route("v1.subscriptions.retrieve", retrieve),
    Route("v1.subscriptions.cancel", cancel),
]
