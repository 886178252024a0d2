"""What callers see of cards and holds. Amounts are in the currency's smallest unit (cents)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from . import LAZY


class _Response(BaseModel):
    model_config = LAZY


class SetupIntentView(_Response):
    client_secret: str = Field(description="Hand to Stripe.js (confirmCardSetup) to collect the card")


class HoldView(_Response):
    """The temporary pre-authorization that verified the card. `pending`: not yet confirmed by
    the card's bank; `requires_action`: waiting for 3-D Secure; `held`: the amount is reserved on
    the card; `released`: given back (`outcome` says how)."""

    id: str
    amount: int = Field(description="In cents", examples=[5000])
    currency: str = Field(examples=["usd"])
    status: Literal["pending", "requires_action", "held", "releasing", "released"]
    release_at: datetime
    released_at: datetime | None = None
    outcome: Literal["canceled", "refunded", "expired", "not_authorized"] | None = Field(
        default=None,
        description="canceled: the authorization was voided; refunded: it had been captured and was "
        "refunded in full; expired: the bank had already dropped it; not_authorized: nothing was held",
    )


class PaymentMethodView(_Response):
    id: str
    brand: str = Field(examples=["visa"])
    last4: str = Field(examples=["4242"])
    exp_month: int
    exp_year: int
    default: bool
    verification: Literal["verified", "requires_action", "failed"]
    added_at: datetime
    hold: HoldView | None


class PaymentMethodList(_Response):
    payment_methods: list[PaymentMethodView]


class CardAdded(_Response):
    """201: verified and held. 202: the bank asks for 3-D Secure: finish it in the browser with
    `client_secret` (Stripe.js handleNextAction); the card is verified once the bank confirms."""

    payment_method: PaymentMethodView
    hold: HoldView
    client_secret: str | None = None
    next_action: Literal["authenticate"] | None = None
