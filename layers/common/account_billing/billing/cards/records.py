"""Cards as stored (DESIGN §4): a card (`ACCOUNT#<sub>` / `CARD#<payment method id>`), and the
marker that makes a card unique on an account by Stripe's card fingerprint (`CARDFP#<fingerprint>`).
The account's default card is named on its profile item (`default_payment_method`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from account_billing.core import keys

CARD_PREFIX = "CARD#"


class CardVerification(StrEnum):
    VERIFIED = "verified"  # its hold was authorized
    REQUIRES_ACTION = "requires_action"  # waiting for 3-D Secure
    FAILED = "failed"  # 3-D Secure failed or was abandoned


def card_key(sub: str, payment_method_id: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"{CARD_PREFIX}{payment_method_id}"}


def fingerprint_key(sub: str, fingerprint: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"CARDFP#{fingerprint}"}


def fingerprint_marker(sub: str, fingerprint: str, payment_method_id: str) -> dict[str, Any]:
    """The marker that holds a card's place on the account, naming its payment method."""
    return {**fingerprint_key(sub, fingerprint), "entity": "card-fingerprint", "payment_method_id": payment_method_id}


@dataclass(frozen=True, slots=True)
class Card:
    sub: str
    payment_method_id: str
    customer_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    funding: str | None
    fingerprint: str
    verification: CardVerification
    added_at: str
    default: bool
    hold_id: str | None

    @property
    def verified(self) -> bool:
        return self.verification == CardVerification.VERIFIED

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Card:
        return cls(
            sub=item["sub"],
            payment_method_id=item["payment_method_id"],
            customer_id=item["customer_id"],
            brand=item["brand"],
            last4=item["last4"],
            exp_month=int(item["exp_month"]),
            exp_year=int(item["exp_year"]),
            funding=item.get("funding"),
            fingerprint=item["fingerprint"],
            verification=CardVerification(item["verification"]),
            added_at=item["added_at"],
            default=bool(item.get("default")),
            hold_id=item.get("hold_id"),
        )

    def to_item(self) -> dict[str, Any]:
        return {
            **card_key(self.sub, self.payment_method_id),
            "entity": "card",
            "sub": self.sub,
            "payment_method_id": self.payment_method_id,
            "customer_id": self.customer_id,
            "brand": self.brand,
            "last4": self.last4,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "funding": self.funding,
            "fingerprint": self.fingerprint,
            "verification": str(self.verification),
            "added_at": self.added_at,
            "default": self.default,
            "hold_id": self.hold_id,
        }
