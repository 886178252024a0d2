"""The exports' failures, as the API reports them."""

from __future__ import annotations

from account_billing.core.errors import ServiceError, TooManyRequests


class ExportNotFound(ServiceError):
    status = 404
    kind = "export-not-found"
    title = "No such export"


class ExportRunning(ServiceError):
    status = 409
    kind = "export-running"
    title = "An export of the account is already running"


class ExportsLimitReached(TooManyRequests):
    kind = "exports-limit-reached"
    title = "Too many exports today"


class ExportGone(Exception):
    """The export or its account went while it was built (or the archive's upload was aborted):
    nothing of it may stay."""


class LeaseLost(Exception):
    """Another export function took the export over (this one's lease ran out)."""
