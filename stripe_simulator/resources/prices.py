"""Products and recurring Prices: configuration, created once per stage (or seeded with known
ids with `seed_price`, as a stage's configuration names them). A subscription item shows its
Price twice: as the Price and as the legacy Plan view of it (`plan_of`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..routing import Route
from ..sdk import NotSimulated
from .common import list_of, lookup

if TYPE_CHECKING:
    from ..core import Simulator


def _product(sim: Simulator, name: str, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    now = sim.now()
    product = {
        "id": sim.new_id("prod", 14),
        "object": "product",
        "active": True,
        "created": now,
        "default_price": None,
        "description": None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata or {},
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": now,
        "url": None,
    }
    return sim.save(product)


def _price(  # noqa: PLR0917
    sim: Simulator,
    product: str,
    unit_amount: int,
    currency: str,
    identifier: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    price = {
        "id": identifier or sim.new_id("price"),
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": sim.now(),
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": metadata or {},
        "nickname": None,
        "product": product,
        "recurring": {
            "interval": "month",
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    return sim.save(price)


def plan_of(price: dict[str, Any]) -> dict[str, Any]:
    """The Plan a recurring Price also is (subscription items carry both)."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": dict(price["metadata"]),
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": recurring["usage_type"],
    }


def seed_price(sim: Simulator, price_id: str, unit_amount: int, name: str, currency: str = "usd") -> dict[str, Any]:
    """A monthly Price with a known id and its Product (a stage's configuration, set up once)."""

    def run() -> dict[str, Any]:
        existing = sim.get(price_id, "price")
        if existing is not None:
            return existing
        product = _product(sim, name)
        return _price(sim, product["id"], unit_amount, currency, price_id)

    result: dict[str, Any] = sim.run(run)
    return result


def create_product(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    return _product(sim, params["name"], forms.metadata(params))


def create_price(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    product = lookup(sim, "product", forms.string(params, "product", required=True) or "", param="product")
    amount = forms.integer(params, "unit_amount", required=True, minimum=0) or 0
    recurring = params.get("recurring")
    if not isinstance(recurring, dict) or recurring["interval"] != "month" or recurring.get("interval_count", 1) != 1:
        raise NotSimulated("only Prices recurring every month are simulated")
    return _price(sim, product["id"], amount, params["currency"].lower(), None, forms.metadata(params))


def retrieve_price(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "price", id)


def list_prices(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    items = [
        p
        for p in sim.all("price")
        if p["active"] == params.get("active", p["active"]) and p["product"] == params.get("product", p["product"])
    ]
    return list_of(sim, "/v1/prices", items, params)


def retrieve_product(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "product", id)


ROUTES = [
    Route("v1.products.create", create_product),
    Route("v1.products.retrieve", retrieve_product),
    Route("v1.prices.create", create_price),
    Route("v1.prices.list", list_prices),
    Route("v1.prices.retrieve", retrieve_price),
]
