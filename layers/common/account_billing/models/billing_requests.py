"""What callers send to the billing routes. Card numbers never come here: Stripe.js turns the
card into a PaymentMethod id (`pm_...`) in the browser."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

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

    payment_method: PaymentMethodId
    plan: Literal["developer", "essential", "professional"] | None = Field(
        default=None,
        description="Whose pre-authorization to place (default: the current paid plan, else Developer)",
    )
