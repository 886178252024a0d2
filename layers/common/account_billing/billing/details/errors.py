"""Errors of billing details."""

from __future__ import annotations

from account_billing.core.errors import ServiceError


class TaxIdRejected(ServiceError):
    """Stripe refused a tax ID that has the right shape (a checksum, a country prefix...)."""

    status = 422
    kind = "tax-id-rejected"
    title = "The tax ID was not accepted"


class BillingDetailsChanged(ServiceError):
    status = 412
    kind = "precondition-failed"
    title = "The billing details changed since they were read (If-Match)"
