"""DynamoDB access for the mirror of the account's billing details: read, written on a version
(optimistic concurrency: the ETag), and erased with the account."""

from __future__ import annotations

from account_billing.accounts.store import account_is_active
from account_billing.billing.details.records import BillingDetails, details_key
from account_billing.core.table import Table, marshal, values


class BillingDetailsStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, sub: str) -> BillingDetails | None:
        item = self.table.get(details_key(sub), consistent=True)
        return BillingDetails.from_item(item) if item else None

    def save(self, details: BillingDetails, expected_version: int) -> bool:
        """Store `details` if the stored version is still `expected_version` (0: none stored) and
        the account is active; False otherwise."""
        condition = (
            "attribute_not_exists(PK)" if expected_version == 0 else "attribute_exists(PK) AND version = :expected"
        )
        put: dict[str, object] = {"Item": marshal(details.to_item()), "ConditionExpression": condition}
        if expected_version:
            put["ExpressionAttributeValues"] = values(expected=expected_version)
        return self.table.transact_unless([account_is_active(details.sub), {"Put": put}], 0, 1)

    def erase(self, sub: str) -> None:
        self.table.delete(details_key(sub))
