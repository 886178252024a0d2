"""Stripe's published test cards, by their `pm_card_*` and `tok_*` shortcuts, and how each one
behaves: declined when attached, declined when charged, or asking for 3-D Secure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decline:
    code: str  # the error's `code` (card_declined, expired_card, incorrect_cvc, processing_error)
    decline_code: str  # the issuer's reason (generic_decline, insufficient_funds, ...)
    message: str


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    funding: str = "credit"
    country: str = "US"
    exp_month: int = 12
    exp_year: int = 2034
    decline_on_attach: Decline | None = None  # the card check at attachment fails
    decline_on_charge: Decline | None = None  # an authorization fails
    requires_authentication: bool = False  # on-session payments ask for 3-D Secure

    @property
    def last4(self) -> str:
        return self.number[-4:]


_DECLINED = Decline("card_declined", "generic_decline", "Your card was declined.")
_INSUFFICIENT = Decline("card_declined", "insufficient_funds", "Your card has insufficient funds.")
_LOST = Decline("card_declined", "lost_card", "Your card was declined.")
_STOLEN = Decline("card_declined", "stolen_card", "Your card was declined.")
_EXPIRED = Decline("expired_card", "expired_card", "Your card has expired.")
_CVC = Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.")
_PROCESSING = Decline("processing_error", "processing_error", "An error occurred while processing your card.")

# Keyed by the shortcut's suffix: `pm_card_<name>` and `tok_<name>` name the same card.
CARDS: dict[str, TestCard] = {
    "visa": TestCard("4242424242424242", "visa"),
    "visa_debit": TestCard("4000056655665556", "visa", funding="debit"),
    "mastercard": TestCard("5555555555554444", "mastercard"),
    "amex": TestCard("378282246310005", "amex"),
    "chargeDeclined": TestCard("4000000000000002", "visa", decline_on_attach=_DECLINED, decline_on_charge=_DECLINED),
    "chargeDeclinedInsufficientFunds": TestCard(
        "4000000000009995", "visa", decline_on_attach=_INSUFFICIENT, decline_on_charge=_INSUFFICIENT
    ),
    "chargeDeclinedLostCard": TestCard("4000000000009987", "visa", decline_on_attach=_LOST, decline_on_charge=_LOST),
    "chargeDeclinedStolenCard": TestCard(
        "4000000000009979", "visa", decline_on_attach=_STOLEN, decline_on_charge=_STOLEN
    ),
    "chargeDeclinedExpiredCard": TestCard(
        "4000000000000069", "visa", decline_on_attach=_EXPIRED, decline_on_charge=_EXPIRED
    ),
    "chargeDeclinedIncorrectCvc": TestCard("4000000000000127", "visa", decline_on_attach=_CVC, decline_on_charge=_CVC),
    "chargeDeclinedProcessingError": TestCard(
        "4000000000000119", "visa", decline_on_attach=_PROCESSING, decline_on_charge=_PROCESSING
    ),
    # Attaching succeeds; every charge fails.
    "chargeCustomerFail": TestCard("4000000000000341", "visa", decline_on_charge=_DECLINED),
    # 3-D Secure on every on-session payment.
    "authenticationRequired": TestCard("4000002760003184", "visa", requires_authentication=True),
    "threeDSecureRequired": TestCard("4000000000003220", "visa", requires_authentication=True),
}


def test_card(shortcut: str) -> TestCard | None:
    """The card a `pm_card_*` or `tok_*` shortcut names."""
    for prefix in ("pm_card_", "tok_"):
        if shortcut.startswith(prefix):
            return CARDS.get(shortcut.removeprefix(prefix))
    return None


def by_number(number: str) -> TestCard | None:
    return next((card for card in CARDS.values() if card.number == number), None)
