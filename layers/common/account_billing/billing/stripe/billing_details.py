"""Billing details on the Stripe customer: its name (the person), business name (the company),
email, postal address and tax IDs, which Stripe copies onto each invoice at finalization."""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe

from account_billing.billing.details.errors import TaxIdRejected
from account_billing.billing.details.records import BillingDetails
from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.errors import RESOURCE_MISSING, refused_with, unless_refused_with
from account_billing.billing.stripe.results import StripeTaxId

if TYPE_CHECKING:
    from stripe.params import CustomerUpdateParams, CustomerUpdateParamsAddress

# Stripe's answer to a tax ID it does not accept for its type.
TAX_ID_INVALID = "tax_id_invalid"


class BillingDetailsApi:
    def __init__(self, api: StripeApi) -> None:
        self.api = api

    def update(self, customer_id: str, details: BillingDetails, idempotency_key: str) -> None:
        """Replace the customer's name, business name, email and address."""
        address = details.address
        params: CustomerUpdateParams = {"business_name": details.company or "", "address": ""}
        # Stripe keeps a customer's name and email once set (they cannot be cleared, only replaced)
        if details.name:
            params["name"] = details.name
        if details.email:
            params["email"] = details.email
        if address is not None:  # the whole address is replaced; its fields cannot be cleared one by one
            fields: CustomerUpdateParamsAddress = {
                name: value
                for name, value in (
                    ("line1", address.line1),
                    ("line2", address.line2),
                    ("city", address.city),
                    ("postal_code", address.postal_code),
                    ("state", address.state),
                    ("country", address.country),
                )
                if value
            }  # type: ignore[assignment]  # exactly CustomerUpdateParamsAddress's keys
            params["address"] = fields
        self.api.call(lambda c: c.v1.customers.update(customer_id, params, {"idempotency_key": idempotency_key}))

    def tax_ids(self, customer_id: str) -> list[StripeTaxId]:
        page = self.api.call(lambda c: c.v1.customers.tax_ids.list(customer_id, {"limit": 100}))
        return [StripeTaxId.from_dict(item.to_dict()) for item in page.data]

    def add_tax_id(self, customer_id: str, kind: str, value: str, idempotency_key: str) -> StripeTaxId:
        """Add a tax ID; Stripe may refuse its value (`TaxIdRejected`)."""
        try:
            created = self.api.call(
                lambda c: c.v1.customers.tax_ids.create(
                    customer_id,
                    {"type": kind, "value": value},
                    {"idempotency_key": idempotency_key},
                )
            )
        except stripe.InvalidRequestError as exc:
            if refused_with(exc, TAX_ID_INVALID):
                raise TaxIdRejected(f"Stripe does not accept {value!r} as a tax ID of type {kind}.") from exc
            raise
        return StripeTaxId.from_dict(created.to_dict())

    def remove_tax_id(self, customer_id: str, tax_id: str) -> None:
        """Remove a tax ID; gone already is fine."""
        with unless_refused_with(RESOURCE_MISSING):
            self.api.call(lambda c: c.v1.customers.tax_ids.delete(customer_id, tax_id))
