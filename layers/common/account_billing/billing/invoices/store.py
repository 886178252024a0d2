"""DynamoDB access for the copy of the account's invoices: written as Stripe has them now
(conditioned on the account being active with this customer, and on not being older than what
is stored), listed newest first, read by id."""

from __future__ import annotations

from account_billing.accounts.records import AccountStatus
from account_billing.billing.invoices.records import INVOICE_PREFIX, Invoice, invoice_pointer_key
from account_billing.core import keys
from account_billing.core.table import ConditionFailed, Table, marshal, values


class InvoiceStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def page(self, sub: str, limit: int, after: str | None) -> tuple[list[Invoice], str | None]:
        """One page of the account's invoices, newest first, and the sort key the next continues
        after (None on the last page)."""
        items, last = self.table.newest_first(keys.account_pk(sub), INVOICE_PREFIX, limit, after)
        return [Invoice.from_item(item) for item in items], (last if len(items) == limit else None)

    def get(self, sub: str, invoice_id: str) -> Invoice | None:
        pointer = self.table.get(invoice_pointer_key(sub, invoice_id))
        item = self.table.get({"PK": keys.account_pk(sub), "SK": pointer["sort_key"]}) if pointer else None
        return Invoice.from_item(item) if item else None

    def save(self, invoice: Invoice, customer_id: str) -> bool:
        """Store an invoice of `customer_id` as Stripe has it now; False if it did not apply."""
        pointer = {
            **invoice_pointer_key(invoice.sub, invoice.invoice_id),
            "entity": "invoice-id",
            "sort_key": invoice.sort_key,
        }
        return self.table.transact_unless(
            [
                {
                    "Put": {
                        "Item": marshal(invoice.to_item()),
                        "ConditionExpression": "attribute_not_exists(PK) OR synced_at <= :synced",
                        "ExpressionAttributeValues": values(synced=invoice.synced_at),
                    }
                },
                {"Put": {"Item": marshal(pointer)}},
                {
                    "ConditionCheck": {
                        "Key": marshal(keys.profile_key(invoice.sub)),
                        "ConditionExpression": "#status = :active AND stripe_customer_id = :customer",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": values(active=AccountStatus.ACTIVE, customer=customer_id),
                    }
                },
            ],
            0,
            2,
        )

    def mark_backfilled(self, sub: str) -> bool:
        """Claim the account's one backfill from Stripe; False if it was claimed already (or the
        account is not active)."""
        try:
            self.table.update(
                keys.profile_key(sub),
                UpdateExpression="SET invoices_backfilled = :yes",
                ConditionExpression="#status = :active AND attribute_not_exists(invoices_backfilled)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(yes=True, active=AccountStatus.ACTIVE),
            )
        except ConditionFailed:
            return False
        return True
