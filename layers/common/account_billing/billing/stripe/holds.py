"""Holds at Stripe: a PaymentIntent with manual capture, placed with the hold's own idempotency
key, found again by the hold id in its metadata, and released (voided, or refunded if captured)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe

from account_billing.billing.errors import PaymentProviderUnavailable
from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.errors import unless_refused_with
from account_billing.billing.stripe.results import Authorization, Released

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams, PaymentIntentListParams, RefundCreateParams

# Stripe's answers when a PaymentIntent cannot be cancelled in its state, and when a charge was
# refunded already.
INTENT_UNEXPECTED_STATE = "payment_intent_unexpected_state"
ALREADY_REFUNDED = "charge_already_refunded"


def _authorization(intent: stripe.PaymentIntent) -> Authorization:
    return Authorization.of(intent.id, intent.status, intent.client_secret)


class Holds:
    def __init__(self, api: StripeApi) -> None:
        self.api = api

    def authorize(
        self,
        *,
        hold_id: str,
        account_key: str,
        customer_id: str,
        payment_method_id: str,
        amount: int,
        currency: str,
    ) -> Authorization:
        """Place a hold: a PaymentIntent with manual capture, confirmed with the card. The
        idempotency key is the hold's own: sending it again returns the same PaymentIntent."""
        params: PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency,
            "customer": customer_id,
            "payment_method": payment_method_id,
            "allowed_payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            "description": "Card verification: a temporary hold, released automatically",
            "metadata": {"hold_id": hold_id, "account": account_key},
        }
        return _authorization(
            self.api.call(lambda c: c.v1.payment_intents.create(params, {"idempotency_key": f"hold-{hold_id}"}))
        )

    def find_authorization(self, customer_id: str, hold_id: str, created_since: int) -> Authorization | None:
        """The PaymentIntent of a hold whose outcome was never recorded (a crash between Stripe's
        answer and the write), found by the hold id in its metadata. Lists are strongly
        consistent, unlike search; nothing is created, so nothing can be charged twice."""
        params: PaymentIntentListParams = {
            "customer": customer_id,
            "created": {"gte": created_since},
            "limit": 100,
        }
        page = self.api.call(lambda c: c.v1.payment_intents.list(params))
        for intent in page.auto_paging_iter():
            metadata = intent.metadata
            if metadata and "hold_id" in metadata and metadata["hold_id"] == hold_id:
                return _authorization(intent)
        return None

    def authorization(self, payment_intent_id: str) -> Authorization:
        return _authorization(self.api.call(lambda c: c.v1.payment_intents.retrieve(payment_intent_id)))

    def release(self, payment_intent_id: str, *, hold_id: str, attempt: int) -> Released:
        """Cancel the hold's PaymentIntent (an authorization is voided, free); if it had been
        captured, refund it in full; if Stripe had already cancelled it, say so.

        The idempotency keys name the attempt: Stripe replays a saved answer for a key, errors
        included, so a later attempt must not reuse an earlier attempt's key. Cancelling twice
        is harmless (the second is refused) and refunds are capped at the captured amount.
        """
        with unless_refused_with(INTENT_UNEXPECTED_STATE):
            self.api.call(
                lambda c: c.v1.payment_intents.cancel(
                    payment_intent_id, options={"idempotency_key": f"hold-{hold_id}-cancel-{attempt}"}
                )
            )
            return Released("canceled")
        status = self.authorization(payment_intent_id).status
        if status == "canceled":
            return Released("expired")
        if status != "captured":
            raise PaymentProviderUnavailable(f"The hold's PaymentIntent is {status}; retry later.")
        params: RefundCreateParams = {
            "payment_intent": payment_intent_id,
            "reason": "requested_by_customer",
            "metadata": {"hold_id": hold_id},
        }
        with unless_refused_with(ALREADY_REFUNDED):
            self.api.call(
                lambda c: c.v1.refunds.create(params, {"idempotency_key": f"hold-{hold_id}-refund-{attempt}"})
            )
        return Released("refunded")
