"""DynamoDB access for cards: the card items, the markers of their fingerprints, and the default
card named on the profile item, which changes only together with the cards, in transactions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from account_billing.accounts.errors import AccountNotFound
from account_billing.accounts.records import Account, AccountStatus
from account_billing.billing.cards.errors import DefaultCardRequired
from account_billing.billing.cards.records import CARD_PREFIX, Card, CardVerification, card_key, fingerprint_key
from account_billing.billing.holds.records import HOLD_PREFIX, Hold, hold_key
from account_billing.billing.plans import FREE_PLAN
from account_billing.core import keys
from account_billing.core.errors import ConcurrentUpdate
from account_billing.core.table import ConditionFailed, Table, TransactionCancelled, TransactItem, marshal, values


class HoldTaken(Exception):
    """The hold was taken for release (account deletion) while Stripe authorized it."""


class Completion(StrEnum):
    """What completing a 3-D Secure verification did."""

    COMPLETED = "completed"  # the hold is held and the card verified
    CARD_GONE = "card_gone"  # the card was removed meanwhile: the hold is held, to be released
    NOT_WAITING = "not_waiting"  # the hold was not waiting for 3-D Secure (any more)


class CardStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    # ------------------------------------------------------------------ reading
    def cards(self, sub: str) -> list[Card]:
        return [Card.from_item(item) for item in self.table.query_partition(keys.account_pk(sub), CARD_PREFIX)]

    def get(self, sub: str, payment_method_id: str) -> Card | None:
        item = self.table.get(card_key(sub, payment_method_id), consistent=True)
        return Card.from_item(item) if item else None

    def with_account_and_holds(self, sub: str, cards: Sequence[Card]) -> tuple[Account | None, dict[str, Hold]]:
        """The account and the holds of `cards`, in one BatchGetItem (strongly consistent): the
        hold items are the truth about each hold, never a copy."""
        wanted = [keys.profile_key(sub)] + [hold_key(sub, c.hold_id) for c in cards if c.hold_id]
        found = self.table.batch_get(wanted)
        profile = next((Account.from_item(item) for item in found if item["SK"] == keys.PROFILE), None)
        holds = {item["hold_id"]: Hold.from_item(item) for item in found if item["SK"].startswith(HOLD_PREFIX)}
        return profile, holds

    # ------------------------------------------------------------------ verifying
    def record_verified(self, card: Card, settle_hold: TransactItem, *, make_default: bool) -> bool:
        """Store a new card with its hold's outcome (`settle_hold`) in one transaction; a verified
        first card becomes the default unless another request made one meanwhile. True if it
        did. `HoldTaken` if the hold was taken for release meanwhile."""

        def actions(default: bool) -> list[TransactItem]:
            item = marshal({**card.to_item(), "default": default})
            return [settle_hold, {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}]

        try:
            return self._claiming_default(actions, card.sub, card.payment_method_id, make_default=make_default)
        except TransactionCancelled as exc:
            if exc.failed(0):
                raise HoldTaken() from exc
            raise ConcurrentUpdate() from exc

    def attach_hold(self, sub: str, payment_method_id: str, hold_id: str, settle_hold: TransactItem) -> None:
        """Make a newly placed hold the card's own, with the hold's outcome, in one transaction."""
        try:
            self.table.transact(
                [
                    settle_hold,
                    {
                        "Update": {
                            "Key": marshal(card_key(sub, payment_method_id)),
                            "UpdateExpression": "SET hold_id = :hold",
                            "ConditionExpression": "attribute_exists(PK)",
                            "ExpressionAttributeValues": values(hold=hold_id),
                        }
                    },
                ]
            )
        except TransactionCancelled as exc:
            raise ConcurrentUpdate("The card changed while the request ran; retry it.") from exc

    def reverify(
        self, card: Card, hold_id: str, settle_hold: TransactItem, verification: CardVerification, *, make_default: bool
    ) -> bool:
        """A retried verification: the card takes its new hold (in place of the one it had when
        the request read it) with the hold's outcome, in one transaction; a verified card
        becomes the default with `make_default` unless another did meanwhile. True if it did.
        `HoldTaken` if the hold was taken for release meanwhile, `ConcurrentUpdate` if the card
        changed or went."""
        names, previous = {"#default": "default"}, card.hold_id

        def actions(default: bool) -> list[TransactItem]:
            update: TransactItem = {
                "Update": {
                    "Key": marshal(card_key(card.sub, card.payment_method_id)),
                    "UpdateExpression": "SET hold_id = :hold, verification = :verification, #default = :default",
                    "ConditionExpression": "hold_id = :previous" if previous else "attribute_exists(PK)",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values(
                        hold=hold_id,
                        verification=verification,
                        default=default,
                        **({"previous": previous} if previous else {}),
                    ),
                }
            }
            return [settle_hold, update]

        try:
            return self._claiming_default(actions, card.sub, card.payment_method_id, make_default=make_default)
        except TransactionCancelled as exc:
            if exc.failed(0):
                raise HoldTaken() from exc
            raise ConcurrentUpdate("The card changed while the request ran; retry it.") from exc

    def complete_verification(
        self, hold: Hold, settle_hold: TransactItem, *, make_default: bool
    ) -> tuple[Completion, bool]:
        """The bank confirmed a hold that waited for 3-D Secure: the hold is held and its card
        verified (and the default, with `make_default`, unless another card became it), in one
        transaction. Returns what it did and whether the card became the default."""

        def actions(default: bool) -> list[TransactItem]:
            verify: TransactItem = {
                "Update": {
                    "Key": marshal(card_key(hold.sub, hold.payment_method_id)),
                    "UpdateExpression": "SET verification = :verified, #default = :default",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeNames": {"#default": "default"},
                    "ExpressionAttributeValues": values(verified=CardVerification.VERIFIED, default=default),
                }
            }
            return [settle_hold, verify]

        try:
            became_default = self._claiming_default(
                actions, hold.sub, hold.payment_method_id, make_default=make_default
            )
        except TransactionCancelled as exc:
            if exc.failed(0):
                return Completion.NOT_WAITING, False
            if exc.failed(1):
                return Completion.CARD_GONE, False
            raise ConcurrentUpdate() from exc
        return Completion.COMPLETED, became_default

    def _claiming_default(
        self, actions: Callable[[bool], list[TransactItem]], sub: str, payment_method_id: str, *, make_default: bool
    ) -> bool:
        """Run `actions(default)`: with `make_default`, together with naming the card the
        account's first default, and once more without when another card became the default
        meanwhile. True if the card became the default; `TransactionCancelled` otherwise."""
        if make_default:
            with_default = actions(True)
            try:
                self.table.transact([*with_default, _claim_default(sub, payment_method_id)])
            except TransactionCancelled as exc:
                if any(exc.failed(index) for index in range(len(with_default))) or not exc.failed(len(with_default)):
                    raise
            else:
                return True
        self.table.transact(actions(False))
        return False

    def mark_verification_failed(self, sub: str, payment_method_id: str) -> bool:
        """3-D Secure failed (or was abandoned): the card waiting for it failed verification.
        False if it was not waiting."""
        try:
            self.table.update(
                card_key(sub, payment_method_id),
                UpdateExpression="SET verification = :failed",
                ConditionExpression="verification = :pending",
                ExpressionAttributeValues=values(
                    failed=CardVerification.FAILED, pending=CardVerification.REQUIRES_ACTION
                ),
            )
        except ConditionFailed:
            return False
        return True

    # ------------------------------------------------------------------ the default, removal
    def set_default(self, card: Card, previous: Card | None, *, also: Sequence[TransactItem] = ()) -> None:
        """Make a verified card the default: its flag, the previous default's, and the profile."""
        sub = card.sub
        actions = [_set_default_flag(sub, card.payment_method_id, True, require_verified=True)]
        if previous is not None:
            actions.append(_set_default_flag(sub, previous.payment_method_id, False))
        actions.append(_move_default(sub, card.payment_method_id, previous.payment_method_id if previous else None))
        profile = len(actions) - 1
        try:
            self.table.transact([*actions, *also])
        except TransactionCancelled as exc:
            if exc.failed(profile) and not exc.failed(0):
                raise AccountNotFound() from exc
            raise ConcurrentUpdate("The cards changed while the request ran; retry it.") from exc

    def remove(self, card: Card, successor: Card | None, *, also: Sequence[TransactItem] = ()) -> None:
        """Remove a card and free its fingerprint. The default card passes the default to
        `successor`; with none, it goes only on the free plan (`DefaultCardRequired`)."""
        sub = card.sub
        actions: list[TransactItem] = [
            {
                "Delete": {
                    "Key": marshal(card_key(sub, card.payment_method_id)),
                    "ConditionExpression": "attribute_exists(PK) AND #default = :default",
                    "ExpressionAttributeNames": {"#default": "default"},
                    "ExpressionAttributeValues": values(default=card.default),
                }
            },
            {"Delete": {"Key": marshal(fingerprint_key(sub, card.fingerprint))}},
        ]
        if card.default:
            if successor is not None:
                actions.append(_set_default_flag(sub, successor.payment_method_id, True, require_verified=True))
                actions.append(_move_default(sub, successor.payment_method_id, card.payment_method_id))
            else:
                actions.append(_drop_default_on_free_plan(sub, card.payment_method_id))
        try:
            self.table.transact([*actions, *also])
        except TransactionCancelled as exc:
            if card.default and successor is None and exc.failed(2) and not exc.failed(0):
                raise DefaultCardRequired(
                    "The default card cannot be removed while a paid plan is active and no other verified card "
                    "exists; add another card first."
                ) from exc
            raise ConcurrentUpdate("The cards changed while the request ran; retry it.") from exc


# ---------------------------------------------------------------------- transaction actions
def _claim_default(sub: str, payment_method_id: str) -> TransactItem:
    """Name the account's first default card (only if it has none and is active)."""
    return _move_default(sub, payment_method_id, None)


def _move_default(sub: str, payment_method_id: str, previous: str | None) -> TransactItem:
    """Name the account's default card, in place of `previous` (None: it has none yet)."""
    condition = "#status = :active AND " + (
        "default_payment_method = :previous" if previous else "attribute_not_exists(default_payment_method)"
    )
    named: dict[str, object] = {"pm": payment_method_id, "active": AccountStatus.ACTIVE}
    if previous:
        named["previous"] = previous
    return {
        "Update": {
            "Key": marshal(keys.profile_key(sub)),
            "UpdateExpression": "SET default_payment_method = :pm",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(**named),
        }
    }


def _drop_default_on_free_plan(sub: str, payment_method_id: str) -> TransactItem:
    return {
        "Update": {
            "Key": marshal(keys.profile_key(sub)),
            "UpdateExpression": "REMOVE default_payment_method",
            "ConditionExpression": "default_payment_method = :pm AND (attribute_not_exists(#plan) OR #plan = :free)",
            "ExpressionAttributeNames": {"#plan": "plan"},
            "ExpressionAttributeValues": values(pm=payment_method_id, free=FREE_PLAN.key),
        }
    }


def _set_default_flag(sub: str, payment_method_id: str, value: bool, *, require_verified: bool = False) -> TransactItem:
    condition = "attribute_exists(PK)" + (" AND verification = :verified" if require_verified else "")
    named: dict[str, object] = {"value": value}
    if require_verified:
        named["verified"] = CardVerification.VERIFIED
    return {
        "Update": {
            "Key": marshal(card_key(sub, payment_method_id)),
            "UpdateExpression": "SET #default = :value",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#default": "default"},
            "ExpressionAttributeValues": values(**named),
        }
    }
