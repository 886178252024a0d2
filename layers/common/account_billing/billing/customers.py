"""The account's Stripe customer: created on first need, idempotently, with the account's key in
its metadata, and its id stored on the account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from account_billing.accounts.records import Account
from account_billing.billing.store import CustomerStore

if TYPE_CHECKING:
    from account_billing.billing.stripe.gateway import StripeGateway


class CustomerDirectory:
    def __init__(self, store: CustomerStore, gateway: StripeGateway) -> None:
        self.store = store
        self.gateway = gateway

    def ensure(self, account: Account) -> str:
        """The account's customer id, creating the customer if it has none yet.

        The idempotency key names the account and its creation, so concurrent first requests
        get one customer (Stripe answers the same key with the same customer), and an account
        re-created under the same key after a deletion gets a new one. Whoever writes first
        wins the account's `stripe_customer_id`; the others read it back.
        """
        if account.stripe_customer_id:
            return account.stripe_customer_id
        created = self.gateway.customers.create(account.sub, f"customer-{account.sub}-{account.created_at}")
        return self.store.record_customer(account.sub, created)
