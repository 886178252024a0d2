"""DynamoDB records of billing (DESIGN §4): cards, the markers that make a card unique on an
account (by Stripe's card fingerprint), and pre-authorization holds.

A hold not yet released carries `GSI1PK`/`GSI1SK`, which puts it in the sparse `HoldsDue`
index ordered by release time; releasing it removes them, so the index holds exactly the holds
still open and the sweeper reads only those that are due.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from ..data import keys
from ..data.accounts import account_is_active
from ..data.table import ConditionFailed, Table, TransactionCancelled, marshal, unmarshal, values
from ..errors import AccountNotFound, DuplicateCard

DUE_INDEX = "HoldsDue"
DUE_PARTITION = "HOLD"

# Hold states. authorizing: recorded, Stripe not answered yet (or the answer was lost);
# requires_action: waiting for 3-D Secure; held: authorized; releasing: claimed by a releaser;
# released: done (its outcome says how).
AUTHORIZING, REQUIRES_ACTION, HELD, RELEASING, RELEASED = (
    "authorizing",
    "requires_action",
    "held",
    "releasing",
    "released",
)
OPEN = (AUTHORIZING, REQUIRES_ACTION, HELD)


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC time to the second: sorts as text, and EventBridge `at()` takes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def card_key(sub: str, payment_method_id: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"CARD#{payment_method_id}"}


def fingerprint_key(sub: str, fingerprint: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"CARDFP#{fingerprint}"}


def hold_key(sub: str, hold_id: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"HOLD#{hold_id}"}


def due_sort_key(release_at: str, hold_id: str) -> str:
    return f"{release_at}#{hold_id}"


class HoldStore:
    """Holds and their conditional state changes: each change applies only from the states it
    names, so two releasers (a schedule and the sweeper, or two deliveries of one schedule)
    can never both release one hold."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, sub: str, hold_id: str) -> dict[str, Any] | None:
        return self.table.get(hold_key(sub, hold_id), consistent=True)

    def start(self, hold: Mapping[str, Any], marker: Mapping[str, Any]) -> None:
        """Record a new hold and claim its card's fingerprint on the account, atomically.
        `DuplicateCard` if the card is already there; `ConditionFailed` if the hold exists."""
        try:
            self.table.transact(
                [
                    {"Put": {"Item": marshal(hold), "ConditionExpression": "attribute_not_exists(PK)"}},
                    {
                        "Put": {
                            "Item": marshal(marker),
                            "ConditionExpression": "attribute_not_exists(PK)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    # No hold for an account being deleted: its erasure may have listed its holds.
                    account_is_active(hold["sub"]),
                ]
            )
        except TransactionCancelled as exc:
            if exc.failed(2):
                raise AccountNotFound("The caller has no account.") from exc
            if exc.failed(0):
                raise ConditionFailed(None) from exc
            if exc.failed(1):
                duplicate = DuplicateCard("This card is already on the account.")
                duplicate.held_by = (exc.items[1] or {}).get("payment_method_id")
                raise duplicate from exc
            raise

    def discard(self, sub: str, hold_id: str, fingerprint: str) -> None:
        """Forget a hold that never held anything (its card was declined) and free the card's
        fingerprint: a declined card leaves nothing behind."""
        self.table.transact(
            [
                {
                    "Delete": {
                        "Key": marshal(hold_key(sub, hold_id)),
                        "ConditionExpression": "#status = :authorizing",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": values(authorizing=AUTHORIZING),
                    }
                },
                {"Delete": {"Key": marshal(fingerprint_key(sub, fingerprint))}},
            ]
        )

    def claim(self, sub: str, hold_id: str, now: datetime, lease_until: datetime) -> dict[str, Any] | None:
        """Take an open hold (or one whose releaser's lease ran out) for release; the new item,
        or None if it is released, being released by another, or gone."""
        try:
            return self.table.update(
                hold_key(sub, hold_id),
                UpdateExpression="SET #status = :releasing, lease_until = :lease, attempts = if_not_exists("
                "attempts, :zero) + :one, claimed_from = #status",
                ConditionExpression="#status IN (:a, :r, :h) OR (#status = :releasing AND lease_until <= :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(
                    releasing=RELEASING,
                    lease=timestamp(lease_until),
                    zero=0,
                    one=1,
                    a=AUTHORIZING,
                    r=REQUIRES_ACTION,
                    h=HELD,
                    now=timestamp(now),
                ),
            )
        except ConditionFailed:
            return None

    def finish(self, hold: Mapping[str, Any], outcome: str, now: datetime, payment_intent_id: str | None) -> bool:
        """Mark a claimed hold released (it leaves the due index); False if the claim was lost."""
        assignments = "#status = :released, outcome = :outcome, released_at = :now"
        named: dict[str, Any] = {"released": RELEASED, "outcome": outcome, "now": timestamp(now)}
        if payment_intent_id:
            assignments += ", payment_intent_id = :pi"
            named["pi"] = payment_intent_id
        try:
            self.table.update(
                hold_key(hold["sub"], hold["hold_id"]),
                UpdateExpression=f"SET {assignments} REMOVE GSI1PK, GSI1SK, lease_until",
                ConditionExpression="#status = :releasing AND attempts = :attempt",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(releasing=RELEASING, attempt=hold["attempts"], **named),
            )
        except ConditionFailed:
            return False
        return True

    def free_fingerprint(self, hold: Mapping[str, Any]) -> None:
        """Free the card fingerprint a hold reserved when no card came of it (its add-card
        request never recorded one): otherwise the same card would be a duplicate forever.
        Only the marker of this hold's payment method goes, and only while no card item exists."""
        if not hold.get("fingerprint") or not hold.get("payment_method_id"):
            return
        try:
            self.table.transact(
                [
                    {
                        "ConditionCheck": {
                            "Key": marshal(card_key(hold["sub"], hold["payment_method_id"])),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Delete": {
                            "Key": marshal(fingerprint_key(hold["sub"], hold["fingerprint"])),
                            "ConditionExpression": "payment_method_id = :pm",
                            "ExpressionAttributeValues": values(pm=hold["payment_method_id"]),
                        }
                    },
                ]
            )
        except TransactionCancelled:
            return  # the card exists after all, or the marker belongs to another payment method

    def let_go(self, hold: Mapping[str, Any], now: datetime) -> None:
        """Give a claim back after a failed attempt: the next run may take it at once."""
        try:
            self.table.update(
                hold_key(hold["sub"], hold["hold_id"]),
                UpdateExpression="SET lease_until = :now",
                ConditionExpression="#status = :releasing AND attempts = :attempt",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(releasing=RELEASING, attempt=hold["attempts"], now=timestamp(now)),
            )
        except ConditionFailed:
            return

    def due(self, now: datetime, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Holds due by `now` and not released, oldest first, from the sparse index: the items
        read grow with the holds due, never with the table."""
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK <= :until",
            "ExpressionAttributeValues": values(pk=DUE_PARTITION, until=timestamp(now) + "#~"),
            "Limit": page_size,
        }
        while True:
            page = self.table.client.query(**kwargs)
            yield from (unmarshal(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def of_account(self, sub: str) -> list[dict[str, Any]]:
        return list(self.table.query_partition(keys.account_pk(sub), "HOLD#"))


class CardStore:
    """Cards of an account. The account's default card is named on its profile item
    (`default_payment_method`), and changes only together with the cards, in transactions."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def cards(self, sub: str) -> list[dict[str, Any]]:
        return list(self.table.query_partition(keys.account_pk(sub), "CARD#"))

    def get(self, sub: str, payment_method_id: str) -> dict[str, Any] | None:
        return self.table.get(card_key(sub, payment_method_id), consistent=True)

    def with_account_and_holds(
        self, sub: str, cards: list[dict[str, Any]]
    ) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
        """The account's profile and the holds of `cards`, in one BatchGetItem (strongly
        consistent): the hold items are the truth about each hold, never a copy."""
        wanted = [keys.profile_key(sub)] + [hold_key(sub, c["hold_id"]) for c in cards if c.get("hold_id")]
        found = batch_get(self.table, wanted)
        profile = next((item for item in found if item["SK"] == keys.PROFILE), None)
        holds = {item["hold_id"]: item for item in found if item["SK"].startswith("HOLD#")}
        return profile, holds


def batch_get(table: Table, wanted: list[keys.Key]) -> list[dict[str, Any]]:
    """BatchGetItem of at most 100 keys, resending what DynamoDB leaves unprocessed."""
    if len(wanted) > 100:
        raise ValueError("BatchGetItem takes at most 100 keys")
    request: dict[str, Any] = {table.name: {"Keys": [marshal(k) for k in wanted], "ConsistentRead": True}}
    found: list[dict[str, Any]] = []
    delay = 0.05
    while request:
        response = table.client.batch_get_item(RequestItems=request)
        found.extend(unmarshal(item) for item in response.get("Responses", {}).get(table.name, []))
        request = response.get("UnprocessedKeys") or {}
        if request:
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    return found
