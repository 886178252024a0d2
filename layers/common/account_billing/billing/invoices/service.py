"""The account's invoices, from the copy the webhook keeps: listed newest first with an opaque
cursor, read by id (another account's invoice does not exist for the caller), and the statement
(Stripe's PDF) once the invoice is final. An account whose copy is empty is backfilled from
Stripe once (its invoices from before the webhook existed)."""

from __future__ import annotations

from typing import Any

from account_billing.billing.context import BillingContext
from account_billing.billing.invoices.errors import InvoiceIsDraft, InvoiceNotFound
from account_billing.billing.invoices.models import (
    InvoiceDetail,
    InvoiceLineView,
    InvoicePage,
    InvoiceView,
    PaymentMethodUsed,
)
from account_billing.billing.invoices.records import DRAFT, INVOICE_PREFIX, OPEN, Invoice
from account_billing.billing.subscriptions.records import read_time
from account_billing.core.clock import from_epoch
from account_billing.core.identity import Caller
from account_billing.core.pagination import decode_cursor, encode_cursor


def invoice_view(invoice: Invoice) -> InvoiceView:
    return InvoiceView(**_summary(invoice))


def _summary(invoice: Invoice) -> dict[str, Any]:
    total = invoice.total if invoice.total is not None else invoice.amount_due
    remaining = invoice.amount_remaining
    if remaining is None:
        remaining = invoice.amount_due - invoice.amount_paid if invoice.status == OPEN else 0
    return {
        "id": invoice.invoice_id,
        "number": invoice.number,
        "status": invoice.status,
        "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid,
        "amount_remaining": remaining,
        "total": total,
        "currency": invoice.currency,
        "period_start": from_epoch(invoice.period_start),
        "period_end": from_epoch(invoice.period_end),
        "created": from_epoch(invoice.created),
        "billing_reason": invoice.billing_reason,
    }


def invoice_detail(invoice: Invoice) -> InvoiceDetail:
    """One invoice with its lines, totals, how it was paid and where its documents are."""
    summary = _summary(invoice)
    paid_with = (
        PaymentMethodUsed(brand=invoice.payment_brand, last4=invoice.payment_last4)
        if invoice.payment_brand or invoice.payment_last4
        else None
    )
    return InvoiceDetail(
        **summary,
        lines=[
            InvoiceLineView(
                description=line.description,
                period_start=from_epoch(line.period_start) if line.period_start is not None else None,
                period_end=from_epoch(line.period_end) if line.period_end is not None else None,
                quantity=line.quantity,
                amount=line.amount,
                proration=line.proration,
            )
            for line in invoice.lines
        ],
        subtotal=invoice.subtotal if invoice.subtotal is not None else summary["total"] - invoice.tax,
        tax=invoice.tax,
        paid_at=from_epoch(invoice.paid_at) if invoice.paid_at else None,
        payment_method=paid_with,
        hosted_invoice_url=invoice.hosted_invoice_url,
        receipt_url=invoice.receipt_url,
        statement_url=f"/v1/billing/invoices/{invoice.invoice_id}/pdf" if invoice.invoice_pdf else None,
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

    def get(self, caller: Caller, invoice_id: str) -> InvoiceDetail:
        return invoice_detail(self._invoice(caller.sub, invoice_id))

    def statement_url(self, caller: Caller, invoice_id: str) -> str:
        invoice = self._invoice(caller.sub, invoice_id)
        if invoice.status == DRAFT or not invoice.invoice_pdf:
            raise InvoiceIsDraft("The invoice is a draft; its statement exists once it is finalized.")
        return invoice.invoice_pdf
