"""Customers: create, retrieve, update (default payment method), delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import invalid
from ..routing import Route
from .common import list_of as _list_of
from .common import live_customer, lookup

if TYPE_CHECKING:
    from ..core import Simulator


def _customer(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": sim.new_id("cus", 14),
        "object": "customer",
        "address": _address(params.get("address")),
        "balance": 0,
        "business_name": params.get("business_name") or None,
        "created": sim.now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": params.get("description"),
        "discount": None,
        "email": params.get("email"),
        "invoice_prefix": sim.new_id("x", 7)[2:].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": forms.metadata(params),
        "name": params.get("name"),
        "next_invoice_sequence": 1,
        "phone": params.get("phone"),
        "preferred_locales": params.get("preferred_locales") or [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
        "customer_account": None,
    }


def _default_payment_method(sim: Simulator, customer: dict[str, Any], params: dict[str, Any]) -> None:
    settings = params.get("invoice_settings")
    if not isinstance(settings, dict) or "default_payment_method" not in settings:
        return
    pm_id = settings["default_payment_method"]
    if pm_id:
        pm = lookup(sim, "payment_method", pm_id, "PaymentMethod", "invoice_settings[default_payment_method]")
        if pm["customer"] != customer["id"]:
            raise invalid(
                f"No such PaymentMethod: '{pm_id}'; It's possible this PaymentMethod exists on one of your "
                "connected accounts, in which case you should retry this request on that connected account.",
                param="invoice_settings[default_payment_method]",
                code="resource_missing",
            )
    customer["invoice_settings"]["default_payment_method"] = pm_id or None


def _address(given: Any) -> dict[str, Any] | None:
    """A customer's address as Stripe keeps it: every field present, '' cleared to null."""
    if not isinstance(given, dict):
        return None
    return {name: given.get(name) or None for name in ("city", "country", "line1", "line2", "postal_code", "state")}


def create(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    customer = _customer(sim, params)
    sim.save(customer)
    _default_payment_method(sim, customer, params)
    sim.emit("customer.created", customer)
    return customer


def retrieve(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    customer = lookup(sim, "customer", id)
    if sim.private(id).get("deleted"):
        return {"id": id, "object": "customer", "deleted": True}
    return customer


def update(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    customer = live_customer(sim, id, "id")
    for name in ("email", "name", "business_name", "description", "phone"):
        if name in params:
            customer[name] = params[name] or None
    if "address" in params:
        customer["address"] = _address(params["address"])
    customer["metadata"] = forms.metadata(params, customer["metadata"])
    _default_payment_method(sim, customer, params)
    sim.emit("customer.updated", customer)
    return customer


def delete(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    customer = live_customer(sim, id, "id")
    sim.private(id)["deleted"] = True
    # Deleting a customer cancels its subscriptions at once and detaches its payment methods.
    for subscription in sim.all("subscription"):
        if subscription["customer"] == id and subscription["status"] not in ("canceled", "incomplete_expired"):
            from .subscriptions import cancel_now  # noqa: PLC0415

            cancel_now(sim, subscription)
    for pm in sim.all("payment_method"):
        if pm["customer"] == id:
            pm["customer"] = None
    sim.emit("customer.deleted", customer)
    return {"id": id, "object": "customer", "deleted": True}


def list_payment_methods(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    live_customer(sim, id, "customer")
    kind = params.get("type")
    items = [pm for pm in sim.all("payment_method") if pm["customer"] == id and (not kind or pm["type"] == kind)]
    return _list_of(sim, f"/v1/customers/{id}/payment_methods", items, params)


ROUTES = [
    Route("v1.customers.create", create),
    Route("v1.customers.retrieve", retrieve),
    Route("v1.customers.update", update),
    Route("v1.customers.delete", delete),
    Route("v1.customers.payment_methods.list", list_payment_methods),
]
