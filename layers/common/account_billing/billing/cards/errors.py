"""Errors of cards."""

from __future__ import annotations

from account_billing.core.errors import ServiceError


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


class CardAlreadyVerified(ServiceError):
    status = 409
    kind = "card-already-verified"
    title = "The card is verified already"


class DefaultCardRequired(ServiceError):
    status = 409
    kind = "default-card-required"
    title = "A paid plan needs a verified default card"


class NotAPaidPlan(ServiceError):
    status = 422
    kind = "not-a-paid-plan"
    title = "Only paid plans take a card pre-authorization"
