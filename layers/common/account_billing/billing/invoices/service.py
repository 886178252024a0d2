"""The account's invoices, from the copy the webhook keeps: listed newest first with an opaque
cursor, read by id (another account's invoice does not exist for the caller), and the statement
(Stripe's PDF) once the invoice is final. An account whose copy is empty is backfilled from
Stripe once (its invoices from before the webhook existed)."""

from __future__ import annotations

from account_billing.billing.context import BillingContext
from account_billing.billing.invoices.errors import InvoiceIsDraft, InvoiceNotFound
from account_billing.billing.invoices.models import InvoicePage, InvoiceView
from account_billing.billing.invoices.records import DRAFT, INVOICE_PREFIX, Invoice
from account_billing.billing.subscriptions.records import read_time
from account_billing.core.clock import from_epoch
from account_billing.core.identity import Caller
from account_billing.core.pagination import decode_cursor, encode_cursor


def invoice_view(invoice: Invoice) -> InvoiceView:
    return InvoiceView(
        id=invoice.invoice_id,
        number=invoice.number,
        status=invoice.status,
        amount_due=invoice.amount_due,
        amount_paid=invoice.amount_paid,
        currency=invoice.currency,
        period_start=from_epoch(invoice.period_start),
        period_end=from_epoch(invoice.period_end),
        created=from_epoch(invoice.created),
        billing_reason=invoice.billing_reason,
    )


class InvoiceService:
    def __init__(self, context: BillingContext) -> None:
        self.accounts = context.accounts
        self.invoices = context.invoices
        self.gateway = context.gateway

    def list_invoices(self, caller: Caller, limit: int, cursor: str | None) -> InvoicePage:
        """One page, newest first: a GetItem (the account) and a Query (the page)."""
        after = decode_cursor(cursor, INVOICE_PREFIX)
        account = self.accounts.require_active(caller.sub)
        invoices, last = self.invoices.page(caller.sub, limit, after)
        if not invoices and after is None and account.stripe_customer_id and not account.invoices_backfilled:
            self._backfill(caller.sub, account.stripe_customer_id)
            invoices, last = self.invoices.page(caller.sub, limit, None)
        return InvoicePage(invoices=[invoice_view(i) for i in invoices], next_cursor=encode_cursor(last))

    def _backfill(self, sub: str, customer_id: str) -> None:
        """Once per account: the invoices Stripe has of its customer, into the copy."""
        if not self.invoices.mark_backfilled(sub):
            return
        for invoice in self.gateway.invoices.of_customer(customer_id):
            self.invoices.save(Invoice.from_stripe(sub, invoice, read_time()), invoice.customer_id)

    def _invoice(self, sub: str, invoice_id: str) -> Invoice:
        invoice = self.invoices.get(sub, invoice_id)
        if invoice is None:
            raise InvoiceNotFound("No such invoice.")
        return invoice

    def get(self, caller: Caller, invoice_id: str) -> InvoiceView:
        return invoice_view(self._invoice(caller.sub, invoice_id))

    def statement_url(self, caller: Caller, invoice_id: str) -> str:
        invoice = self._invoice(caller.sub, invoice_id)
        if invoice.status == DRAFT or not invoice.invoice_pdf:
            raise InvoiceIsDraft("The invoice is a draft; its statement exists once it is finalized.")
        return invoice.invoice_pdf
