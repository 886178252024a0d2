"""The account's Stripe customer: created on first need, idempotently, with the account's key in
its metadata, and its id stored on the account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..data import keys
from ..data.accounts import ACTIVE
from ..data.table import ConditionFailed, Table, values
from ..errors import AccountNotFound

if TYPE_CHECKING:
    from .gateway import StripeGateway


class CustomerDirectory:
    def __init__(self, table: Table, gateway: StripeGateway) -> None:
        self.table = table
        self.gateway = gateway

    def ensure(self, account: Mapping[str, Any]) -> str:
        """The account's customer id, creating the customer if it has none yet.

        The idempotency key names the account and its creation, so concurrent first requests
        get one customer (Stripe answers the same key with the same customer), and an account
        re-created under the same key after a deletion gets a new one. Whoever writes first
        wins the account's `stripe_customer_id`; the others read it back.
        """
        existing = account.get("stripe_customer_id")
        if existing:
            return str(existing)
        sub = account["sub"]
        customer_id = self.gateway.create_customer(sub, f"customer-{sub}-{account['created_at']}")
        try:
            item = self.table.update(
                keys.profile_key(sub),
                UpdateExpression="SET stripe_customer_id = if_not_exists(stripe_customer_id, :customer)",
                ConditionExpression="#status = :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(customer=customer_id, active=ACTIVE),
            )
        except ConditionFailed as exc:
            raise AccountNotFound("The caller has no account.") from exc
        return str(item["stripe_customer_id"])
