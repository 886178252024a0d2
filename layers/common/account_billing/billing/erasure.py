"""Billing's step of account deletion: release the account's open holds, cancel its
subscriptions and delete its Stripe customer. (Its card and hold items go with the account's
other items in the accounts step.)

Deletion runs in the profile function: stripe is imported only when the account has something
at Stripe, never when this module is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..data.table import Table
from .holds import HoldReleaser
from .records import RELEASED, HoldStore

if TYPE_CHECKING:
    from .gateway import StripeGateway


def _configured_gateway() -> StripeGateway:
    from .gateway import gateway_for  # noqa: PLC0415 - stripe only when there is billing to erase
    from .settings import billing_settings  # noqa: PLC0415

    return gateway_for(billing_settings())


class BillingErasure:
    name = "billing"

    def __init__(self, table: Table, gateway: Callable[[], StripeGateway] = _configured_gateway) -> None:
        self.table = table
        self.gateway = gateway

    def erase(self, account: Mapping[str, Any]) -> None:
        sub = account["sub"]
        holds = HoldStore(self.table)
        open_holds = [hold for hold in holds.of_account(sub) if hold["status"] != RELEASED]
        customer_id = account.get("stripe_customer_id")
        if not open_holds and not customer_id:
            return
        gateway = self.gateway()
        if open_holds:
            HoldReleaser(holds, gateway).release_all_of(sub)
        if customer_id:
            for subscription_id in gateway.active_subscriptions(str(customer_id)):
                gateway.cancel_subscription(subscription_id)
            gateway.delete_customer(str(customer_id))
