"""DynamoDB access for billing's own attribute of the account item: its Stripe customer."""

from __future__ import annotations

from account_billing.accounts.errors import AccountNotFound
from account_billing.accounts.records import AccountStatus
from account_billing.core import keys
from account_billing.core.table import ConditionFailed, Table, values


class CustomerStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def record_customer(self, sub: str, customer_id: str) -> str:
        """Name the account's Stripe customer unless one is named already; the one named.
        `AccountNotFound` without an active account."""
        try:
            item = self.table.update(
                keys.profile_key(sub),
                UpdateExpression="SET stripe_customer_id = if_not_exists(stripe_customer_id, :customer)",
                ConditionExpression="#status = :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(customer=customer_id, active=AccountStatus.ACTIVE),
            )
        except ConditionFailed as exc:
            raise AccountNotFound() from exc
        return str(item["stripe_customer_id"])
