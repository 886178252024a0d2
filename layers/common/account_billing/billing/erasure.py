"""Billing's step of account deletion: release the account's open holds, cancel its
subscriptions and delete its Stripe customer. (Its card and hold items go with the account's
other items in the accounts step.)

Deletion runs in the profile function: stripe is imported only when the account has something
at Stripe, never when this module is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from account_billing.accounts.records import Account
from account_billing.billing.holds.records import HoldStatus
from account_billing.billing.holds.release import HoldReleaser
from account_billing.billing.holds.store import HoldStore

if TYPE_CHECKING:
    from account_billing.billing.stripe.gateway import StripeGateway


def _configured_gateway() -> StripeGateway:
    from account_billing.billing.settings import billing_settings  # noqa: PLC0415
    from account_billing.billing.stripe.gateway import gateway_for  # noqa: PLC0415 - stripe only when needed

    return gateway_for(billing_settings())


class BillingErasure:
    name = "billing"

    def __init__(self, holds: HoldStore, gateway: Callable[[], StripeGateway] = _configured_gateway) -> None:
        self.holds = holds
        self.gateway = gateway

    def erase(self, account: Account) -> None:
        open_holds = [hold for hold in self.holds.of_account(account.sub) if hold.status != HoldStatus.RELEASED]
        customer_id = account.stripe_customer_id
        if not open_holds and not customer_id:
            return
        gateway = self.gateway()
        if open_holds:
            HoldReleaser(self.holds, gateway).release_all_of(account.sub)
        if customer_id:
            for subscription_id in gateway.subscriptions.ids_of(customer_id):
                gateway.subscriptions.cancel(subscription_id)
            gateway.customers.delete(customer_id)
