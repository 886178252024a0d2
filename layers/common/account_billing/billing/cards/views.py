"""What callers see of cards and their holds (pure)."""

from __future__ import annotations

from account_billing.billing.cards.models import HoldView, PaymentMethodView
from account_billing.billing.cards.records import Card
from account_billing.billing.holds.records import Hold, HoldStatus
from account_billing.core.clock import parse_timestamp

# What a hold's stored state is called to callers, where the two differ.
_SHOWN_STATUS = {HoldStatus.AUTHORIZING: "pending"}


def hold_view(hold: Hold) -> HoldView:
    return HoldView(
        id=hold.hold_id,
        amount=hold.amount,
        currency=hold.currency,
        status=_SHOWN_STATUS.get(hold.status, hold.status.value),
        release_at=parse_timestamp(hold.release_at),
        released_at=parse_timestamp(hold.released_at) if hold.released_at else None,
        outcome=hold.outcome.value if hold.outcome else None,
    )


def card_view(card: Card, hold: Hold | None) -> PaymentMethodView:
    return PaymentMethodView(
        id=card.payment_method_id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        default=card.default,
        verification=card.verification.value,
        added_at=parse_timestamp(card.added_at),
        hold=hold_view(hold) if hold else None,
    )
