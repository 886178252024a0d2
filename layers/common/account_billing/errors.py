"""One exception class per failure meaning. Domain code raises them; `problems` maps them to
HTTP problem responses in one place."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every error the API reports to its caller as a problem response."""

    status = 500
    kind = "internal-error"
    title = "Internal error"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the problem response carries besides its body."""
        return {}


class InvalidRequest(ServiceError):
    status = 422
    kind = "validation-error"
    title = "The request is not valid"

    def __init__(self, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)


class Unauthenticated(ServiceError):
    status = 401
    kind = "unauthenticated"
    title = "Authentication required"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class AccountNotFound(ServiceError):
    status = 404
    kind = "account-not-found"
    title = "No account"


class UserNotFound(ServiceError):
    status = 404
    kind = "user-not-found"
    title = "No such user"


class AccountAlreadyExists(ServiceError):
    status = 409
    kind = "account-exists"
    title = "The caller already has an account"


class UserIdTaken(ServiceError):
    status = 409
    kind = "user-id-taken"
    title = "That User ID is taken"


class ConcurrentUpdate(ServiceError):
    status = 409
    kind = "concurrent-update"
    title = "The account changed while the request ran; retry it"


class ConfirmationMismatch(ServiceError):
    status = 422
    kind = "confirmation-mismatch"
    title = "The confirmation does not match the account's User ID"


class PreconditionFailed(ServiceError):
    status = 412
    kind = "precondition-failed"
    title = "The account changed since it was read"


class TooManyRequests(ServiceError):
    status = 429
    kind = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail, retry_after=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class EmailNotFound(ServiceError):
    status = 404
    kind = "email-not-found"
    title = "The account has no such address"


class EmailAlreadyAdded(ServiceError):
    status = 409
    kind = "email-already-added"
    title = "The address is already on this account"


class EmailTaken(ServiceError):
    status = 409
    kind = "email-taken"
    title = "Another account has verified this address"


class EmailLimitReached(ServiceError):
    status = 409
    kind = "email-limit-reached"
    title = "The account has as many addresses as it may have"


class EmailNotVerified(ServiceError):
    status = 409
    kind = "email-not-verified"
    title = "The address is not verified"


class PrimaryEmailRemoval(ServiceError):
    status = 409
    kind = "primary-email-removal"
    title = "The primary address cannot be removed"


class LastVerifiedEmailRemoval(ServiceError):
    status = 409
    kind = "last-verified-email-removal"
    title = "The last verified address cannot be removed"


class InvalidVerificationToken(ServiceError):
    status = 422
    kind = "invalid-verification-token"
    title = "The verification link is not valid"


class VerificationTokenExpired(ServiceError):
    status = 422
    kind = "verification-token-expired"
    title = "The verification link has expired"


class EmailDeliveryFailed(ServiceError):
    status = 502
    kind = "email-delivery-failed"
    title = "The email could not be sent"


# ---------------------------------------------------------------- billing: cards and holds
class CardDeclined(ServiceError):
    """The card was declined (at attachment or at the pre-authorization); nothing is kept."""

    status = 402
    kind = "card-declined"
    title = "The card was declined"

    def __init__(self, detail: str, *, decline_code: str | None, code: str | None = None) -> None:
        super().__init__(detail, decline_code=decline_code or "generic_decline", code=code or "card_declined")


class PaymentMethodNotFound(ServiceError):
    status = 404
    kind = "payment-method-not-found"
    title = "No such payment method"


class DuplicateCard(ServiceError):
    status = 409
    kind = "duplicate-card"
    title = "This card is already on the account"

    # The payment method that holds the card's place on the account (never shown to callers).
    held_by: str | None = None


class CardLimitReached(ServiceError):
    status = 409
    kind = "card-limit-reached"
    title = "The account has as many cards as it may keep"


class CardNotVerified(ServiceError):
    status = 409
    kind = "card-not-verified"
    title = "The card has not been verified yet"


class DefaultCardRequired(ServiceError):
    status = 409
    kind = "default-card-required"
    title = "A paid plan needs a verified default card"


class NotAPaidPlan(ServiceError):
    status = 422
    kind = "not-a-paid-plan"
    title = "Only paid plans take a card pre-authorization"


class IdempotencyKeyReused(ServiceError):
    status = 422
    kind = "idempotency-key-reused"
    title = "This Idempotency-Key was used with another request"


class RequestInProgress(ServiceError):
    status = 409
    kind = "request-in-progress"
    title = "A request with this Idempotency-Key is still running; retry it shortly"


class PaymentProviderUnavailable(ServiceError):
    status = 503
    kind = "payment-provider-unavailable"
    title = "The payment provider could not be reached; retry later"


class InvalidCursor(ServiceError):
    status = 400
    kind = "invalid-cursor"
    title = "The cursor is not valid"


class LimitRequestsExceeded(ServiceError):
    status = 409
    kind = "limit-requests-exceeded"
    title = "Too many open limit-increase requests"


# ---------------------------------------------------------------- billing: subscriptions and invoices
class NoVerifiedCard(ServiceError):
    """A paid plan needs a verified default card."""

    status = 409
    kind = "no-verified-card"
    title = "A verified default card is needed"


class NoScheduledChange(ServiceError):
    status = 404
    kind = "no-scheduled-change"
    title = "No change is scheduled"


class InvoiceNotFound(ServiceError):
    status = 404
    kind = "invoice-not-found"
    title = "No such invoice"


class InvoiceIsDraft(ServiceError):
    status = 409
    kind = "invoice-is-draft"
    title = "The invoice is still a draft"


class PlanNotAvailable(ServiceError):
    """The plan has no Stripe Price configured in this stage."""

    status = 422
    kind = "plan-not-available"
    title = "The plan is not available"


class InvalidWebhookSignature(ServiceError):
    """A webhook delivery whose Stripe-Signature does not verify, or is too old."""

    status = 400
    kind = "invalid-signature"
    title = "The Stripe signature does not verify"


class EventInProgress(ServiceError):
    """Another delivery of the same event is being applied: Stripe delivers it again later."""

    status = 503
    kind = "event-in-progress"
    title = "The event is being applied"
