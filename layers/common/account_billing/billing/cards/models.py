"""What callers send to the card routes and what they see of cards and holds. Card numbers never
come here: Stripe.js turns the card into a PaymentMethod id (`pm_...`) in the browser. Amounts are in
the currency's smallest unit (cents)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from account_billing.core.models import LAZY, with_examples

PAYMENT_METHOD_ID = r"^pm_[A-Za-z0-9_]{1,250}$"

PaymentMethodId = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=PAYMENT_METHOD_ID, max_length=253),
    Field(description="A Stripe PaymentMethod id, from Stripe.js", examples=["pm_1Pgc75B7WZ01zgkWlHVgdEGJ"]),
]

IdempotencyKey = Annotated[
    str,
    StringConstraints(min_length=8, max_length=255, pattern=r"^[\x21-\x7e]+$"),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class AddPaymentMethodRequest(_Request):
    """Add a card and verify it with a temporary hold of the plan's pre-authorization amount."""

    model_config = with_examples({"payment_method": "pm_card_visa", "plan": "developer"})

    payment_method: PaymentMethodId
    plan: Literal["developer", "essential", "professional"] | None = Field(
        default=None,
        description="Whose pre-authorization to place: only the account's own (its current paid plan, else "
        "Developer, which is also the default); another is refused (422 hold-plan-not-allowed)",
    )


class _Response(BaseModel):
    model_config = LAZY


class SetupIntentView(_Response):
    model_config = with_examples({"client_secret": "seti_1Pgc75B7WZ01zgkW_secret_QpXk3bYc1dEf7gHi4s"})

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


# One card and its hold, the examples of the answers that show them.
_HOLD = {
    "id": "hold_01JD7Q5W3C9N",
    "amount": 5000,
    "currency": "usd",
    "status": "held",
    "release_at": "2026-11-21T14:05:00Z",
    "released_at": None,
    "outcome": None,
}
_CARD = {
    "id": "pm_1Pgc75B7WZ01zgkWlHVgdEGJ",
    "brand": "visa",
    "last4": "4242",
    "exp_month": 12,
    "exp_year": 2030,
    "default": True,
    "verification": "verified",
    "added_at": "2026-11-20T14:05:00Z",
    "hold": _HOLD,
}


class PaymentMethodList(_Response):
    model_config = with_examples({"payment_methods": [_CARD]})

    payment_methods: list[PaymentMethodView]


class CardAdded(_Response):
    """201: verified and held. 202: the bank asks for 3-D Secure: finish it in the browser with
    `client_secret` (Stripe.js handleNextAction); the card is verified once the bank confirms."""

    model_config = with_examples({"payment_method": _CARD, "hold": _HOLD, "client_secret": None, "next_action": None})

    payment_method: PaymentMethodView
    hold: HoldView
    client_secret: str | None = None
    next_action: Literal["authenticate"] | None = None
