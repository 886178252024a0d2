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


class InvoiceNotPayable(ServiceError):
    status = 409
    kind = "invoice-not-payable"
    title = "The invoice is not open for payment"


class PaymentCardUnavailable(ServiceError):
    status = 409
    kind = "payment-card-unavailable"
    title = "No verified card of the account to pay with"
