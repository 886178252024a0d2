"""Stripe's errors in the service's terms, translated in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from account_billing.billing.errors import CardDeclined, PaymentProviderUnavailable
from account_billing.core.observability import count, logger


class StripeRateLimited(PaymentProviderUnavailable):
    """Stripe kept answering 429 after the retries: slow down and try again later."""


def _declined(exc: stripe.CardError) -> CardDeclined:
    error = exc.error
    return CardDeclined(
        exc.user_message or "The card was declined.",
        decline_code=error.decline_code if error else None,
        code=exc.code,
    )


@contextmanager
def translated() -> Iterator[None]:
    """Run one Stripe request: a declined card is `CardDeclined` (with Stripe's decline code), a
    429 `StripeRateLimited`, no answer or a Stripe failure `PaymentProviderUnavailable`. Stripe's
    refusals of the request itself (`InvalidRequestError`) pass through, for the caller to judge
    by their code. Each 429 counts `StripeRateLimited`, each failure `StripeUnavailable` (after
    stripe-python's own retries), whichever thread made the request."""
    try:
        yield
    except stripe.CardError as exc:
        raise _declined(exc) from exc
    except stripe.RateLimitError as exc:
        count("StripeRateLimited")
        raise StripeRateLimited("Stripe is rate limiting; retry later.") from exc
    except (stripe.APIConnectionError, stripe.APIError) as exc:
        count("StripeUnavailable")
        logger.warning("Stripe unavailable", extra={"error": type(exc).__name__, "request_id": exc.request_id})
        raise PaymentProviderUnavailable() from exc


def refused_with(exc: stripe.InvalidRequestError, *codes: str) -> bool:
    """Whether Stripe refused the request with one of `codes` (its error code, never its text)."""
    return exc.code in codes


@contextmanager
def unless_refused_with(*codes: str) -> Iterator[None]:
    """Stripe refusing a request with one of `codes` (say, the object is already gone) means
    there is nothing left to do."""
    try:
        yield
    except stripe.InvalidRequestError as exc:
        if not refused_with(exc, *codes):
            raise


RESOURCE_MISSING = "resource_missing"
