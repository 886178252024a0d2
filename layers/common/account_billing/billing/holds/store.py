"""DynamoDB access for pre-authorization holds and their conditional state changes: each change
applies only from the states it names, so two releasers (a schedule and the sweeper, or two
deliveries of one schedule) can never both release one hold."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from account_billing.accounts.errors import AccountNotFound
from account_billing.accounts.store import account_is_active
from account_billing.billing.cards.errors import CardsChanged, DuplicateCard
from account_billing.billing.cards.records import card_key, fingerprint_key
from account_billing.billing.holds.records import (
    DUE_INDEX,
    HOLD_PREFIX,
    Hold,
    HoldOutcome,
    HoldStatus,
    due_partitions,
    hold_key,
)
from account_billing.core import keys
from account_billing.core.clock import timestamp_to_second
from account_billing.core.errors import ConcurrentUpdate
from account_billing.core.table import (
    ConditionFailed,
    Table,
    TransactionCancelled,
    TransactItem,
    marshal,
    values,
)


def _settled(hold: Hold, status: HoldStatus, payment_intent_id: str) -> dict[str, Any]:
    return {
        "UpdateExpression": "SET #status = :status, payment_intent_id = :pi",
        "ConditionExpression": "#status = :current",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": values(status=status, pi=payment_intent_id, current=hold.status),
    }


class HoldStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, sub: str, hold_id: str) -> Hold | None:
        item = self.table.get(hold_key(sub, hold_id), consistent=True)
        return Hold.from_item(item) if item else None

    def of_account(self, sub: str) -> list[Hold]:
        return [Hold.from_item(item) for item in self.table.query_partition(keys.account_pk(sub), HOLD_PREFIX)]

    # ------------------------------------------------------------------ placing
    def record(
        self, hold: Hold, fingerprint_marker: Mapping[str, Any] | None = None, guard: TransactItem | None = None
    ) -> None:
        """Record a new hold (and claim its card's fingerprint on the account, if given), only
        for an active account, atomically. `ConcurrentUpdate` if the hold exists (the same
        request, running twice), `DuplicateCard` if the card is already on the account,
        `CardsChanged` if `guard` (the card guard's count, `cards.guard`) no longer holds."""
        actions: list[TransactItem] = [
            {"Put": {"Item": marshal(hold.to_item()), "ConditionExpression": "attribute_not_exists(PK)"}},
            # No hold for an account being deleted: its erasure may have listed its holds.
            account_is_active(hold.sub),
        ]
        if fingerprint_marker is not None:
            actions.append(
                {
                    "Put": {
                        "Item": marshal(fingerprint_marker),
                        "ConditionExpression": "attribute_not_exists(PK)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        if guard is not None:
            actions.append(guard)
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            if exc.failed(1):
                raise AccountNotFound() from exc
            if guard is not None and exc.failed(len(actions) - 1):
                raise CardsChanged() from exc
            if exc.failed(0):
                raise ConcurrentUpdate("This request is already being processed.") from exc
            if exc.failed(2):
                duplicate = DuplicateCard("This card is already on the account.")
                duplicate.held_by = (exc.items[2] or {}).get("payment_method_id")
                raise duplicate from exc
            raise

    def discard(self, hold: Hold, *, with_fingerprint: bool) -> None:
        """Forget a hold that never held anything (its card was declined), and free the card's
        fingerprint it reserved (`with_fingerprint`): a declined card leaves nothing behind. A
        hold a releaser has taken meanwhile is left to it."""
        delete_hold: TransactItem = {
            "Delete": {
                "Key": marshal(hold.key),
                "ConditionExpression": "#status = :authorizing",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(authorizing=HoldStatus.AUTHORIZING),
            }
        }
        actions = [delete_hold]
        if with_fingerprint and hold.fingerprint:
            actions.append({"Delete": {"Key": marshal(fingerprint_key(hold.sub, hold.fingerprint))}})
        with contextlib.suppress(TransactionCancelled):
            self.table.transact(actions)

    def settle(self, hold: Hold, status: HoldStatus, payment_intent_id: str) -> TransactItem:
        """The transaction action that records Stripe's answer: the hold goes from its current
        state (authorizing, or waiting for 3-D Secure) to `status`, with its PaymentIntent."""
        return {"Update": {"Key": marshal(hold.key), **_settled(hold, status, payment_intent_id)}}

    def mark_held(self, hold: Hold, payment_intent_id: str) -> None:
        """A hold that waited for 3-D Secure is authorized (its card is gone: nothing else
        changes). `ConditionFailed` if it was not waiting any more."""
        self.table.update(hold.key, **_settled(hold, HoldStatus.HELD, payment_intent_id))

    # ------------------------------------------------------------------ releasing
    def claim(self, sub: str, hold_id: str, now: datetime, lease_until: datetime) -> Hold | None:
        """Take an open hold (or one whose releaser's lease ran out) for release; the hold as it
        is now, or None if it is released, being released by another, or gone."""
        try:
            item = self.table.update(
                hold_key(sub, hold_id),
                UpdateExpression="SET #status = :releasing, lease_until = :lease, attempts = if_not_exists("
                "attempts, :zero) + :one, claimed_from = #status",
                ConditionExpression="#status IN (:a, :r, :h) OR (#status = :releasing AND lease_until <= :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(
                    releasing=HoldStatus.RELEASING,
                    lease=timestamp_to_second(lease_until),
                    zero=0,
                    one=1,
                    a=HoldStatus.AUTHORIZING,
                    r=HoldStatus.REQUIRES_ACTION,
                    h=HoldStatus.HELD,
                    now=timestamp_to_second(now),
                ),
            )
        except ConditionFailed:
            return None
        return Hold.from_item(item)

    def finish(self, hold: Hold, outcome: HoldOutcome, now: datetime, payment_intent_id: str | None) -> bool:
        """Mark a claimed hold released (it leaves the due index); False if the claim was lost."""
        assignments = "#status = :released, outcome = :outcome, released_at = :now"
        named: dict[str, Any] = {"released": HoldStatus.RELEASED, "outcome": outcome, "now": timestamp_to_second(now)}
        if payment_intent_id:
            assignments += ", payment_intent_id = :pi"
            named["pi"] = payment_intent_id
        try:
            self.table.update(
                hold.key,
                UpdateExpression=f"SET {assignments} REMOVE GSI1PK, GSI1SK, lease_until",
                ConditionExpression="#status = :releasing AND attempts = :attempt",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(releasing=HoldStatus.RELEASING, attempt=hold.attempts, **named),
            )
        except ConditionFailed:
            return False
        return True

    def free_fingerprint(self, hold: Hold) -> None:
        """Free the card fingerprint a hold reserved when no card came of it (its add-card
        request never recorded one): otherwise the same card would be a duplicate forever.
        Only the marker of this hold's payment method goes, and only while no card item exists."""
        if not hold.fingerprint or not hold.payment_method_id:
            return
        try:
            self.table.transact(
                [
                    {
                        "ConditionCheck": {
                            "Key": marshal(card_key(hold.sub, hold.payment_method_id)),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Delete": {
                            "Key": marshal(fingerprint_key(hold.sub, hold.fingerprint)),
                            "ConditionExpression": "payment_method_id = :pm",
                            "ExpressionAttributeValues": values(pm=hold.payment_method_id),
                        }
                    },
                ]
            )
        except TransactionCancelled:
            return  # the card exists after all, or the marker belongs to another payment method

    def let_go(self, hold: Hold, now: datetime) -> None:
        """Give a claim back after a failed attempt: the next run may take it at once."""
        try:
            self.table.update(
                hold.key,
                UpdateExpression="SET lease_until = :now",
                ConditionExpression="#status = :releasing AND attempts = :attempt",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(
                    releasing=HoldStatus.RELEASING, attempt=hold.attempts, now=timestamp_to_second(now)
                ),
            )
        except ConditionFailed:
            return

    def due(self, partition: str, now: datetime, page_size: int = 500) -> Iterator[Hold]:
        """Holds of one partition of the sparse due index (`records.due_partitions`) due by `now`
        and not released, oldest first: the items read grow with the holds due, never with the
        table."""
        items = self.table.query_pages(
            IndexName=DUE_INDEX,
            KeyConditionExpression="GSI1PK = :pk AND GSI1SK <= :until",
            ExpressionAttributeValues=values(pk=partition, until=timestamp_to_second(now) + "#~"),
            Limit=page_size,
        )
        return (Hold.from_item(item) for item in items)

    def oldest_due(self, now: datetime) -> Hold | None:
        """The unreleased hold whose release time passed longest ago, or None when nothing is
        due: the first item of each partition of the sparse index (one item read, one request
        per partition)."""
        firsts = [next(self.due(partition, now, page_size=1), None) for partition in due_partitions()]
        return min((hold for hold in firsts if hold is not None), key=lambda hold: hold.release_at, default=None)
