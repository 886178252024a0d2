"""A customer's tax IDs (`/v1/customers/{customer}/tax_ids`): created with Stripe's checks of
the value (an EU VAT number carries a member state's prefix, a value has digits), listed,
retrieved and deleted. Stripe verifies EU VAT numbers asynchronously (`pending`); in test mode
its documented magic values settle at once: `...000000000` is verified, `...111111111`
unverified. Other types have no verification (`unavailable`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import invalid, missing
from ..routing import Route
from .common import list_of, live_customer

if TYPE_CHECKING:
    from ..core import Simulator

_EU_PREFIXES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XI",
    }
)
_VERIFIED_TYPES = ("eu_vat", "gb_vat", "au_abn", "in_gst", "ae_trn")


def _refused(kind: str, value: str) -> bool:
    if not any(c.isdigit() for c in value):
        return True
    return kind == "eu_vat" and value[:2] not in _EU_PREFIXES


def _verification(kind: str, value: str) -> dict[str, Any]:
    if kind not in _VERIFIED_TYPES:
        status = "unavailable"
    elif value.endswith("000000000"):
        status = "verified"
    elif value.endswith("111111111"):
        status = "unverified"
    else:
        status = "pending"
    return {"status": status, "verified_address": None, "verified_name": None}


def create(sim: Simulator, params: dict[str, Any], customer: str) -> dict[str, Any]:
    holder = live_customer(sim, customer)
    kind = forms.string(params, "type", required=True) or ""
    value = forms.string(params, "value", required=True) or ""
    if _refused(kind, value):
        raise invalid(f"Invalid value for {kind}.", param="value", code="tax_id_invalid")
    tax_id = {
        "id": sim.new_id("txi"),
        "object": "tax_id",
        "country": value[:2] if kind == "eu_vat" else kind[:2].upper(),
        "created": sim.now(),
        "customer": holder["id"],
        "customer_account": None,
        "livemode": False,
        "owner": {
            "account": None,
            "application": None,
            "customer": holder["id"],
            "customer_account": None,
            "type": "customer",
        },
        "type": kind,
        "value": value,
        "verification": _verification(kind, value),
    }
    sim.save(tax_id)
    sim.emit("customer.tax_id.created", tax_id)
    return tax_id


def _of(sim: Simulator, customer: str, identifier: str) -> dict[str, Any]:
    tax_id = sim.get(identifier, "tax_id")
    if tax_id is None or tax_id.get("customer") != customer or sim.private(identifier).get("deleted"):
        raise missing("tax_id", identifier)
    return tax_id


def retrieve(sim: Simulator, params: dict[str, Any], customer: str, id: str) -> dict[str, Any]:
    live_customer(sim, customer)
    return _of(sim, customer, id)


def list_all(sim: Simulator, params: dict[str, Any], customer: str) -> dict[str, Any]:
    live_customer(sim, customer)
    items = [t for t in sim.all("tax_id") if t.get("customer") == customer and not sim.private(t["id"]).get("deleted")]
    return list_of(sim, f"/v1/customers/{customer}/tax_ids", items, params)


def delete(sim: Simulator, params: dict[str, Any], customer: str, id: str) -> dict[str, Any]:
    live_customer(sim, customer)
    tax_id = _of(sim, customer, id)
    sim.private(id)["deleted"] = True
    tax_id["customer"] = None  # it no longer belongs to the customer (its invoices keep their copy)
    sim.emit("customer.tax_id.deleted", tax_id)
    return {"id": id, "object": "tax_id", "deleted": True}


ROUTES = [
    Route("v1.customers.tax_ids.create", create),
    Route("v1.customers.tax_ids.list", list_all),
    Route("v1.customers.tax_ids.retrieve", retrieve),
    Route("v1.customers.tax_ids.delete", delete),
]
