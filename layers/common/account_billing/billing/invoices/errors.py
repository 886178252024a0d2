"""Errors of invoices."""

from __future__ import annotations

from account_billing.core.errors import ServiceError


class InvoiceNotFound(ServiceError):
    status = 404
    kind = "invoice-not-found"
    title = "No such invoice"


class InvoiceIsDraft(ServiceError):
    status = 409
    kind = "invoice-is-draft"
    title = "The invoice is still a draft"
