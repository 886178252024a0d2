"""Errors of spending."""

from __future__ import annotations

from account_billing.core.errors import ServiceError


class LimitRequestsExceeded(ServiceError):
    status = 409
    kind = "limit-requests-exceeded"
    title = "Too many open limit-increase requests"
