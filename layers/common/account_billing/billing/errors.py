"""Errors every part of billing may raise: a declined card, Stripe out of reach, a reused or
running Idempotency-Key."""

from __future__ import annotations

from account_billing.core.errors import ServiceError


class CardDeclined(ServiceError):
    """The card was declined (at attachment or at the pre-authorization); nothing is kept."""

    status = 402
    kind = "card-declined"
    title = "The card was declined"

    def __init__(self, detail: str, *, decline_code: str | None, code: str | None = None) -> None:
        super().__init__(detail, decline_code=decline_code or "generic_decline", code=code or "card_declined")


class PaymentProviderUnavailable(ServiceError):
    status = 503
    kind = "payment-provider-unavailable"
    title = "The payment provider could not be reached; retry later"


class IdempotencyKeyReused(ServiceError):
    status = 422
    kind = "idempotency-key-reused"
    title = "This Idempotency-Key was used with another request"


class RequestInProgress(ServiceError):
    status = 409
    kind = "request-in-progress"
    title = "A request with this Idempotency-Key is still running; retry it shortly"
