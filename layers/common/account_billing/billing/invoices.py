"""The account's invoices, from the mirror the webhook keeps (`mirror.py`): listed newest first
with an opaque cursor, read by id (another account's invoice does not exist for the caller),
and the statement (Stripe's PDF) once the invoice is final. An account whose mirror is empty is
backfilled from Stripe once (its invoices from before the webhook existed)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..data import keys
from ..data.accounts import ACTIVE
from ..data.table import ConditionFailed, Table, unmarshal, values
from ..errors import AccountNotFound, InvoiceIsDraft, InvoiceNotFound
from ..identity import Caller
from ..models.subscription_responses import InvoicePage, InvoiceView
from ..pagination import decode_cursor, encode_cursor
from .mirror import INVOICE_PREFIX, Mirror, invoice_pointer_key

if TYPE_CHECKING:
    from .gateway import StripeGateway


def _when(epoch: Any) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


def invoice_view(item: Mapping[str, Any]) -> InvoiceView:
    return InvoiceView(
        id=item["invoice_id"],
        number=item.get("number"),
        status=item["status"],
        amount_due=item["amount_due"],
        amount_paid=item["amount_paid"],
        currency=item["currency"],
        period_start=_when(item["period_start"]),
        period_end=_when(item["period_end"]),
        created=_when(item["created"]),
        billing_reason=item.get("billing_reason"),
    )


class InvoiceService:
    def __init__(self, table: Table, gateway: StripeGateway, mirror: Mirror) -> None:
        self.table = table
        self.gateway = gateway
        self.mirror = mirror

    def _account(self, sub: str) -> dict[str, Any]:
        account = self.table.get(keys.profile_key(sub))
        if account is None or account.get("status") != ACTIVE:
            raise AccountNotFound("The caller has no account.")
        return account

    def list_invoices(self, caller: Caller, limit: int, cursor: str | None) -> InvoicePage:
        """One page, newest first: a GetItem (the account) and a Query (the page)."""
        after = decode_cursor(cursor, INVOICE_PREFIX)
        account = self._account(caller.sub)
        items, last = self._page(caller.sub, limit, after)
        if not items and after is None and account.get("stripe_customer_id") and not account.get("invoices_backfilled"):
            self._backfill(caller.sub, str(account["stripe_customer_id"]))
            items, last = self._page(caller.sub, limit, None)
        return InvoicePage(invoices=[invoice_view(i) for i in items], next_cursor=encode_cursor(last))

    def _page(self, sub: str, limit: int, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": values(pk=keys.account_pk(sub), prefix=INVOICE_PREFIX),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = {"PK": {"S": keys.account_pk(sub)}, "SK": {"S": after}}
        page = self.table.client.query(**kwargs)
        items = [unmarshal(i) for i in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return items, (last["SK"]["S"] if last and len(items) == limit else None)

    def _backfill(self, sub: str, customer_id: str) -> None:
        """Once per account: the invoices Stripe has of its customer, into the mirror."""
        try:
            self.table.update(
                keys.profile_key(sub),
                UpdateExpression="SET invoices_backfilled = :yes",
                ConditionExpression="#status = :active AND attribute_not_exists(invoices_backfilled)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(yes=True, active=ACTIVE),
            )
        except ConditionFailed:
            return
        for invoice in self.gateway.invoices(customer_id):
            self.mirror.save_invoice(sub, invoice)

    def _invoice(self, sub: str, invoice_id: str) -> dict[str, Any]:
        pointer = self.table.get(invoice_pointer_key(sub, invoice_id))
        item = self.table.get({"PK": keys.account_pk(sub), "SK": pointer["sort_key"]}) if pointer else None
        if item is None:
            raise InvoiceNotFound("No such invoice.")
        return item

    def get(self, caller: Caller, invoice_id: str) -> InvoiceView:
        return invoice_view(self._invoice(caller.sub, invoice_id))

    def statement_url(self, caller: Caller, invoice_id: str) -> str:
        item = self._invoice(caller.sub, invoice_id)
        if item["status"] == "draft" or not item.get("invoice_pdf"):
            raise InvoiceIsDraft("The invoice is a draft; its statement exists once it is finalized.")
        return str(item["invoice_pdf"])
