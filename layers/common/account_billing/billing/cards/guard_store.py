"""DynamoDB access for the card-testing defences (`cards.guard`): the account's book of card
additions (`ACCOUNT#<sub>` / `CARDBOOK`), which each new card's hold advances in its own
transaction, and the lock on card additions (`CARDLOCK#<sub>` / `LOCK`), kept apart from the
account's items so that deleting the account and creating it again does not lift it (DynamoDB's
TTL removes it once it is over)."""

from __future__ import annotations

from account_billing.core import keys
from account_billing.core.table import ConditionFailed, Table, TransactItem, marshal, values

CARD_BOOK = "CARDBOOK"


def card_book_key(sub: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": CARD_BOOK}


def card_lock_key(sub: str) -> keys.Key:
    return {"PK": f"CARDLOCK#{sub}", "SK": "LOCK"}


class GuardStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def additions(self, sub: str) -> int:
        """How many card additions the account's book has counted (strongly consistent)."""
        item = self.table.get(card_book_key(sub), consistent=True)
        return int(item.get("additions", 0)) if item else 0

    @staticmethod
    def advance(sub: str, seen: int) -> TransactItem:
        """The transaction action that counts one more addition, only if the book still holds
        `seen` (its condition fails when another addition was recorded since it was read)."""
        return {
            "Update": {
                "Key": marshal(card_book_key(sub)),
                "UpdateExpression": "SET entity = :entity, additions = :next",
                "ConditionExpression": "attribute_not_exists(additions) OR additions = :seen"
                if seen == 0
                else "additions = :seen",
                "ExpressionAttributeValues": values(entity="card-book", next=seen + 1, seen=seen),
            }
        }

    def locked_until(self, sub: str) -> int | None:
        """Until when (epoch seconds) card additions are locked, if a lock was set."""
        item = self.table.get(card_lock_key(sub), consistent=True)
        return int(item["locked_until"]) if item else None

    def lock(self, sub: str, until: int, expires_at: int) -> None:
        """Lock card additions until `until` (epoch seconds); a later lock already set stays."""
        try:
            self.table.update(
                card_lock_key(sub),
                UpdateExpression="SET entity = :entity, locked_until = :until, expires_at = :expires",
                ConditionExpression="attribute_not_exists(locked_until) OR locked_until < :until",
                ExpressionAttributeValues=values(entity="card-lock", until=until, expires=expires_at),
            )
        except ConditionFailed:
            return
