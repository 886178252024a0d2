"""Errors of cards."""

from __future__ import annotations

from account_billing.core.errors import ConcurrentUpdate, ServiceError, TooManyRequests


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


class HoldPlanNotAllowed(ServiceError):
    status = 422
    kind = "hold-plan-not-allowed"
    title = "A new card is verified with the pre-authorization of the account's own plan"


class CardAttemptsLimited(TooManyRequests):
    kind = "card-attempts-limited"
    title = "Too many cards tried on this account; try again later"


class CardsLocked(TooManyRequests):
    kind = "card-additions-locked"
    title = "Adding cards is locked for a while after too many declines"


class TooManyOpenHolds(TooManyRequests):
    kind = "too-many-open-holds"
    title = "Too many card pre-authorizations are open on this account; try again once one is released"


class CardsChanged(ConcurrentUpdate):
    """Another card addition was recorded since the account's cards were counted: count again."""

    title = "The cards changed while the request ran; retry it"
