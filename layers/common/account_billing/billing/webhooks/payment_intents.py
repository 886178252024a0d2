"""What Stripe's events about holds mean to this service.

- `payment_intent.amount_capturable_updated`: the bank authorized a hold that waited for 3-D
  Secure: the hold is held, the card verified (and the default if the account has none).
- `payment_intent.payment_failed` on a hold waiting for 3-D Secure: the customer failed or
  abandoned it: the card is marked as failed verification; the hold is released at its time.
- `payment_intent.canceled`: on a hold waiting for 3-D Secure, the same as a failed
  authentication; on a hold still held, Stripe let the authorization go itself (seven days
  uncaptured: reason `automatic`), so nothing is held any more: the hold is released now, its
  outcome `expired`.
Events about PaymentIntents that are not holds (no `hold_id` in their metadata) are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from account_billing.billing.cards.service import CardService

HANDLED = ("payment_intent.amount_capturable_updated", "payment_intent.payment_failed", "payment_intent.canceled")


def on_payment_intent_event(cards: CardService, event_type: str, intent: Mapping[str, Any]) -> bool:
    """Apply one event; True if it changed something. Safe to receive twice, in any order."""
    metadata = intent.get("metadata") or {}
    sub, hold_id = metadata.get("account"), metadata.get("hold_id")
    if event_type not in HANDLED or not sub or not hold_id:
        return False
    if event_type == "payment_intent.amount_capturable_updated":
        if intent.get("status") != "requires_capture":
            return False
        return cards.complete_verification(str(sub), str(hold_id), str(intent["id"]))
    if event_type == "payment_intent.canceled" and cards.authorization_ended(str(sub), str(hold_id)):
        return True
    return cards.fail_verification(str(sub), str(hold_id))
