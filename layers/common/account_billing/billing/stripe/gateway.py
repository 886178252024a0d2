"""The Stripe gateway: what the service asks of Stripe, one part per job, over one `StripeApi`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.billing_details import BillingDetailsApi
from account_billing.billing.stripe.cards import Cards
from account_billing.billing.stripe.client import client_for
from account_billing.billing.stripe.customers import Customers
from account_billing.billing.stripe.holds import Holds
from account_billing.billing.stripe.invoices import Invoices
from account_billing.billing.stripe.ratelimit import RateLimiter
from account_billing.billing.stripe.subscriptions import Subscriptions

if TYPE_CHECKING:
    from account_billing.billing.settings import BillingSettings


class StripeGateway:
    def __init__(self, api: StripeApi) -> None:
        self.api = api
        self.customers = Customers(self.api)
        self.cards = Cards(self.api)
        self.holds = Holds(self.api)
        self.subscriptions = Subscriptions(self.api)
        self.invoices = Invoices(self.api)
        self.details = BillingDetailsApi(self.api)


def gateway_for(settings: BillingSettings, limiter: RateLimiter | None = None) -> StripeGateway:
    """The gateway a function uses; nothing is fetched until the first Stripe call."""
    return StripeGateway(StripeApi(lambda: client_for(settings), limiter=limiter))
