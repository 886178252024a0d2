"""Cards at Stripe: the SetupIntent Stripe.js collects a card with, and the card's PaymentMethod
attached to (or detached from) the account's customer."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

import stripe

from account_billing.billing.cards.errors import PaymentMethodNotFound
from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.errors import RESOURCE_MISSING, refused_with, unless_refused_with
from account_billing.billing.stripe.results import CardDetails

if TYPE_CHECKING:
    from stripe.params import SetupIntentCreateParams

# Stripe's answer when a PaymentMethod cannot be attached or detached in its state.
UNEXPECTED_STATE = "payment_method_unexpected_state"


def _card(pm: stripe.PaymentMethod) -> CardDetails:
    card = pm.card
    if card is None:
        raise PaymentMethodNotFound("Only cards are accepted.")
    customer = pm.customer
    return CardDetails(
        payment_method_id=pm.id,
        customer_id=customer if isinstance(customer, str) or customer is None else customer.id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        fingerprint=card.fingerprint,
        funding=card.funding,
    )


class Cards:
    def __init__(self, api: StripeApi) -> None:
        self.api = api

    def setup_intent(self, customer_id: str) -> str:
        """A SetupIntent's client secret: Stripe.js collects the card with it."""
        params: SetupIntentCreateParams = {
            "customer": customer_id,
            "allowed_payment_method_types": ["card"],
            "usage": "off_session",
        }
        intent = self.api.call(
            lambda c: c.v1.setup_intents.create(params, {"idempotency_key": f"setup-{uuid.uuid4()}"})
        )
        return intent.client_secret or ""

    def payment_method(self, payment_method_id: str) -> CardDetails:
        try:
            return _card(self.api.call(lambda c: c.v1.payment_methods.retrieve(payment_method_id)))
        except stripe.InvalidRequestError as exc:
            if refused_with(exc, RESOURCE_MISSING):
                raise PaymentMethodNotFound("No such payment method.") from exc
            raise

    def attach(self, payment_method_id: str, customer_id: str, request_key: str) -> CardDetails:
        """Attach a card to the customer (Stripe checks it with the issuer: `CardDeclined`).
        `request_key` names the request (a retry of it sends the same): Stripe answers a key it
        has seen with its first answer for 24 hours, so a key naming only the card would answer
        a card removed and added again with the attachment that was undone since."""
        # The key names the request and the card it carries: a request refused before it was
        # stored (an unknown card) leaves its Idempotency-Key free for another card, which Stripe
        # would refuse under the same key (its keys are bound to their parameters).
        card_digest = hashlib.sha256(payment_method_id.encode()).hexdigest()[:16]
        idempotency_key = f"attach-{request_key}-{card_digest}"
        try:
            pm = self.api.call(
                lambda c: c.v1.payment_methods.attach(
                    payment_method_id, {"customer": customer_id}, {"idempotency_key": idempotency_key}
                )
            )
        except stripe.InvalidRequestError as exc:
            if refused_with(exc, RESOURCE_MISSING, UNEXPECTED_STATE):
                raise PaymentMethodNotFound("No such payment method.") from exc
            raise
        return _card(pm)

    def detach(self, payment_method_id: str) -> None:
        """Detach a card from its customer; already detached is fine."""
        with unless_refused_with(UNEXPECTED_STATE, RESOURCE_MISSING):
            self.api.call(
                lambda c: c.v1.payment_methods.detach(
                    payment_method_id, options={"idempotency_key": f"detach-{payment_method_id}"}
                )
            )
