"""The endpoints, one module per Stripe resource. A module lists its routes in `ROUTES`; new
resources (Prices, Subscriptions, Invoices...) add a module here or plug in with
`Simulator.add_routes`."""

from __future__ import annotations

from ..routing import Route
from . import (
    charges,
    customers,
    events,
    invoice_payments,
    invoices,
    payment_intents,
    payment_methods,
    prices,
    refunds,
    setup_intents,
    subscription_changes,
    subscriptions,
    tax_ids,
)

_MODULES = (
    customers,
    payment_methods,
    setup_intents,
    payment_intents,
    charges,
    refunds,
    events,
    subscriptions,
    subscription_changes,
    prices,
    invoices,
    invoice_payments,
    tax_ids,
)

ROUTES: list[Route] = [route for module in _MODULES for route in module.ROUTES]

__all__ = ["ROUTES", "Route"]
