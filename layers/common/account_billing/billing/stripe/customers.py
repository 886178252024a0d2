"""Stripe customers: one per account, its key in the customer's metadata."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.errors import RESOURCE_MISSING, unless_refused_with
from account_billing.core.observability import logger

if TYPE_CHECKING:
    from stripe.params import CustomerCreateParams


class Customers:
    def __init__(self, api: StripeApi) -> None:
        self.api = api

    def create(self, account_key: str, idempotency_key: str) -> str:
        params: CustomerCreateParams = {"metadata": {"account": account_key}}
        return self.api.call(lambda c: c.v1.customers.create(params, {"idempotency_key": idempotency_key})).id

    def delete(self, customer_id: str) -> None:
        """Delete the customer (Stripe cancels its subscriptions with it); gone already is fine."""
        with unless_refused_with(RESOURCE_MISSING):
            self.api.call(lambda c: c.v1.customers.delete(customer_id))
            return
        logger.info("Stripe customer already deleted")

    def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        self.api.call(
            lambda c: c.v1.customers.update(
                customer_id,
                {"invoice_settings": {"default_payment_method": payment_method_id}},
                {"idempotency_key": f"default-{customer_id}-{payment_method_id}-{uuid.uuid4()}"},
            )
        )

    def account_of(self, customer_id: str) -> str | None:
        """The account key in the customer's metadata."""
        metadata = self.api.call(lambda c: c.v1.customers.retrieve(customer_id)).to_dict().get("metadata") or {}
        account = metadata.get("account")
        return str(account) if account else None
