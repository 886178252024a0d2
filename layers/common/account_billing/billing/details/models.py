"""What callers send to and read from `/v1/billing/details`."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from account_billing.billing.details.tax_ids import valid_tax_id
from account_billing.core.fields import normalized
from account_billing.core.models import with_examples
from account_billing.emails.models import EmailAddressField

Line = Annotated[str, BeforeValidator(normalized), StringConstraints(min_length=1, max_length=200)]
MAX_TAX_IDS = 5


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class PostalAddress(_Request):
    line1: Line = Field(examples=["12 St James's Square"])
    line2: Line | None = None
    city: Line | None = Field(default=None, examples=["London"])
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9 \-]+$")] | None = (
        Field(default=None, examples=["SW1Y 4JH"])
    )
    state: Line | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2", examples=["GB"]
    )


class TaxId(_Request):
    type: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}_[a-z_]{2,12}$")] = Field(
        description="One of Stripe's tax_id types", examples=["eu_vat"]
    )
    value: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(examples=["DE123456789"])

    @model_validator(mode="after")
    def _in_format(self) -> Self:
        if not valid_tax_id(self.type, self.value):
            raise ValueError(f"not a tax ID of type {self.type} (see Stripe's tax_id types and their formats)")
        return self


_EXAMPLE = {
    "name": "Ada Lovelace",
    "company": "Analytical Engines Ltd",
    "email": "accounts@example.com",
    "address": {"line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"},
    "tax_ids": [{"type": "gb_vat", "value": "GB123456789"}],
}


class BillingDetailsRequest(_Request):
    """The billing details invoices show; the whole set is replaced (leave a field out to clear it)."""

    model_config = with_examples(_EXAMPLE, extra="forbid", frozen=True)

    name: Line | None = Field(default=None, examples=["Ada Lovelace"])
    company: Line | None = Field(default=None, examples=["Analytical Engines Ltd"])
    email: EmailAddressField | None = Field(
        default=None, description="Where invoices and payment notices go (accounts payable)"
    )
    address: PostalAddress | None = None
    tax_ids: list[TaxId] = Field(default_factory=list, max_length=MAX_TAX_IDS)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if len({(t.type, t.value) for t in self.tax_ids}) != len(self.tax_ids):
            raise ValueError("the same tax ID is given twice")
        return self


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class AddressView(_Response):
    line1: str
    line2: str | None
    city: str | None
    postal_code: str | None
    state: str | None
    country: str


class TaxIdView(_Response):
    type: str
    value: str
    verification: str | None = Field(description="Stripe's check: pending, verified, unverified or unavailable")


class BillingDetailsView(_Response):
    model_config = with_examples(
        {
            **_EXAMPLE,
            "address": {**_EXAMPLE["address"], "line2": None, "state": None},  # type: ignore[dict-item]
            "tax_ids": [{"type": "gb_vat", "value": "GB123456789", "verification": "pending"}],
        },
        frozen=True,
    )

    name: str | None
    company: str | None
    email: str | None
    address: AddressView | None
    tax_ids: list[TaxIdView]
