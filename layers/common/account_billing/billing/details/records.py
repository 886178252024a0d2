"""Billing details as mirrored: `ACCOUNT#<sub>` / `BILLING_DETAILS`, a copy of what the Stripe
customer holds, with `version` for the ETag (If-Match)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from account_billing.core import keys
from account_billing.core.records import from_item, to_item

BILLING_DETAILS = "BILLING_DETAILS"


def details_key(sub: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": BILLING_DETAILS}


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    country: str
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class TaxIdRecord:
    tax_id: str  # Stripe's id (txi_...)
    type: str
    value: str
    verification: str | None = None


@dataclass(frozen=True, slots=True)
class BillingDetails:
    sub: str
    version: int
    updated_at: str
    name: str | None = None
    company: str | None = None
    email: str | None = None
    address: Address | None = None
    tax_ids: tuple[TaxIdRecord, ...] = ()

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> BillingDetails:
        address = item.get("address")
        return from_item(
            cls,
            item,
            sub=keys.sub_of(item["PK"]),
            version=int(item["version"]),
            address=Address(**address) if address else None,
            tax_ids=tuple(TaxIdRecord(**t) for t in item.get("tax_ids") or ()),
        )

    def to_item(self) -> dict[str, Any]:
        item = to_item(self, details_key(self.sub), "billing-details", leave_out=("sub",))
        item["address"] = asdict(self.address) if self.address else None
        item["tax_ids"] = [asdict(t) for t in self.tax_ids]
        return item
