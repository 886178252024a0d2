"""Cards as stored (DESIGN §4): a card (`ACCOUNT#<sub>` / `CARD#<payment method id>`), and the
marker that makes a card unique on an account by Stripe's card fingerprint (`CARDFP#<fingerprint>`).
The account's default card is named on its profile item (`default_payment_method`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from account_billing.core import keys
from account_billing.core.records import from_item, to_item

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
    fingerprint: str
    verification: CardVerification
    added_at: str
    default: bool
    funding: str | None = None
    hold_id: str | None = None

    @property
    def verified(self) -> bool:
        return self.verification == CardVerification.VERIFIED

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Card:
        return from_item(cls, item)

    def to_item(self) -> dict[str, Any]:
        return to_item(self, card_key(self.sub, self.payment_method_id), "card")
