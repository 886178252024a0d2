"""Products and recurring Prices: configuration, created once per stage (or seeded with known
ids with `seed_price`, as a stage's configuration names them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import invalid
from ..routing import Route
from .common import ID, LIST_PARAMS, list_of, lookup

if TYPE_CHECKING:
    from ..core import Simulator


def _product(sim: Simulator, name: str, identifier: str | None = None) -> dict[str, Any]:
    product = {
        "id": identifier or sim.new_id("prod", 14),
        "object": "product",
        "active": True,
        "created": sim.now(),
        "default_price": None,
        "description": None,
        "livemode": False,
        "metadata": {},
        "name": name,
        "type": "service",
        "updated": sim.now(),
    }
    return sim.save(product)


def _price(
    sim: Simulator, product: str, unit_amount: int, currency: str, identifier: str | None = None
) -> dict[str, Any]:
    price = {
        "id": identifier or sim.new_id("price"),
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": sim.now(),
        "currency": currency,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": product,
        "recurring": {
            "interval": "month",
            "interval_count": 1,
            "meter": None,
            "usage_type": "licensed",
            "trial_period_days": None,
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    return sim.save(price)


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
    return _product(sim, forms.string(params, "name", required=True) or "")


def create_price(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    product = lookup(sim, "product", forms.string(params, "product", required=True) or "", param="product")
    amount = forms.integer(params, "unit_amount", required=True, minimum=0) or 0
    recurring = params.get("recurring")
    if not isinstance(recurring, dict) or recurring.get("interval") != "month":
        raise invalid("Only monthly recurring prices are simulated.", param="recurring[interval]")
    return _price(sim, product["id"], amount, (forms.string(params, "currency", required=True) or "").lower())


def retrieve_price(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "price", id)


def list_prices(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    return list_of(sim, "/v1/prices", sim.all("price"), params)


def retrieve_product(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "product", id)


ROUTES = [
    Route("POST", r"/v1/products", create_product, {"name": forms.ANY, "metadata": forms.ANY}),
    Route("GET", rf"/v1/products/{ID}", retrieve_product),
    Route(
        "POST",
        r"/v1/prices",
        create_price,
        {
            "product": forms.ANY,
            "unit_amount": forms.ANY,
            "currency": forms.ANY,
            "recurring": {"interval": forms.ANY, "interval_count": forms.ANY},
            "metadata": forms.ANY,
        },
    ),
    Route("GET", r"/v1/prices", list_prices, {**LIST_PARAMS, "active": forms.ANY, "product": forms.ANY}),
    Route("GET", rf"/v1/prices/{ID}", retrieve_price),
]
