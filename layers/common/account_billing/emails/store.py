"""DynamoDB access for email addresses and the markers that give a verified address to one
account. Every change that touches more than one item is one transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from account_billing.accounts.errors import AccountNotFound
from account_billing.accounts.records import AccountStatus
from account_billing.accounts.store import account_is_active
from account_billing.core import keys
from account_billing.core.errors import ConcurrentUpdate
from account_billing.core.ratelimit_windows import Slot
from account_billing.core.table import (
    ConditionFailed,
    Table,
    TransactionCancelled,
    TransactItem,
    marshal,
    owned_by,
    values,
)
from account_billing.emails.errors import (
    EmailAlreadyAdded,
    EmailTaken,
    InvalidVerificationToken,
    LastVerifiedEmailRemoval,
    PrimaryEmailRemoval,
)
from account_billing.emails.records import (
    ADDRESSES_AND_BOOK,
    EMAIL_BOOK,
    EMAIL_PREFIX,
    Email,
    email_book_key,
    email_marker_key,
)

ACTIVE = AccountStatus.ACTIVE


class SendRefused(Exception):
    """A verification email was sent too recently, or the address changed meanwhile."""


class SendLimited(Exception):
    """A sending budget's window is full: `slot` is the one whose condition failed."""

    def __init__(self, slot: Slot) -> None:
        super().__init__(f"{slot.limit.scope} limit reached")
        self.slot = slot


class AdditionRaced(Exception):
    """Another address was added since the book was read: read it again and retry."""


@dataclass(frozen=True, slots=True)
class AddressBook:
    """Every address item of an account (expired ones too, until DynamoDB's TTL removes them)
    and how many additions its book has counted."""

    emails: list[Email]
    additions: int


def _slot_failed(exc: TransactionCancelled, first: int, slots: Sequence[Slot]) -> Slot | None:
    return next((slot for index, slot in enumerate(slots, first) if exc.failed(index)), None)


class EmailStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def book(self, sub: str) -> AddressBook:
        """The account's address items and its book, in one Query (strongly consistent)."""
        emails, additions = [], 0
        for item in self.table.query_partition(keys.account_pk(sub), ADDRESSES_AND_BOOK):
            if item["SK"] == EMAIL_BOOK:
                additions = int(item.get("additions", 0))
            elif item["SK"].startswith(EMAIL_PREFIX):
                emails.append(Email.from_item(item))
        return AddressBook(emails, additions)

    def list(self, sub: str) -> list[Email]:
        return self.book(sub).emails

    def add(
        self,
        email: Email,
        book: AddressBook,
        now: datetime,
        slots: Sequence[Slot] = (),
        *,
        also: Sequence[TransactItem] = (),
    ) -> None:
        """Add an unverified address (with its first email's token) to the account whose book
        was `book` when it was read: only if no other address was added since (the book counts
        additions; `AdditionRaced` otherwise), the address is not on the account (an expired
        one's item is replaced), no other account has verified it, and the account is active;
        counting its first email in `slots` (`SendLimited`), with `also` (its activity entry). One
        transaction."""
        replaceable = "attribute_not_exists(PK) OR (verified = :false AND expires_at <= :now)"
        actions: list[TransactItem] = [
            {
                "Update": {
                    "Key": marshal(email_book_key(email.sub)),
                    "UpdateExpression": "SET entity = :entity, additions = :next",
                    "ConditionExpression": "attribute_not_exists(additions) OR additions = :seen"
                    if book.additions == 0
                    else "additions = :seen",
                    "ExpressionAttributeValues": values(
                        entity="email-book", next=book.additions + 1, seen=book.additions
                    ),
                }
            },
            {
                "Put": {
                    "Item": marshal(email.to_item()),
                    "ConditionExpression": replaceable,
                    "ExpressionAttributeValues": values(false=False, now=int(now.timestamp())),
                }
            },
            {
                "ConditionCheck": {
                    "Key": marshal(email_marker_key(email.key)),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            account_is_active(email.sub),
            *(slot.action for slot in slots),
            *also,
        ]
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            if exc.failed(3):
                raise AccountNotFound() from exc
            if exc.failed(0):
                raise AdditionRaced() from exc
            if exc.failed(1):
                raise EmailAlreadyAdded("The address is already on this account.") from exc
            if exc.failed(2):
                raise EmailTaken("Another account has verified this address.") from exc
            if (slot := _slot_failed(exc, 4, slots)) is not None:
                raise SendLimited(slot) from exc
            raise ConcurrentUpdate() from exc

    def record_sent(
        self,
        email: Email,
        token_hash: str,
        token_expires_at: int,
        now: str,
        *,
        cooldown_from: str,
        slots: Sequence[Slot] = (),
    ) -> None:
        """Store a new token and the send time, unless the previous send is under a cooldown
        (sent after `cooldown_from`) or the address was verified meanwhile (`SendRefused`),
        counting the email in `slots` (`SendLimited`). One transaction."""
        update: TransactItem = {
            "Update": {
                "Key": marshal(email.item_key),
                "UpdateExpression": "SET token_hash = :hash, token_expires_at = :expires, "
                "verification_sent_at = :now, send_count = if_not_exists(send_count, :zero) + :one",
                "ConditionExpression": "attribute_exists(PK) AND verified = :false AND "
                "(attribute_not_exists(verification_sent_at) OR verification_sent_at <= :cooldown)",
                "ExpressionAttributeValues": values(
                    hash=token_hash,
                    expires=token_expires_at,
                    now=now,
                    zero=0,
                    one=1,
                    false=False,
                    cooldown=cooldown_from,
                ),
            }
        }
        try:
            self.table.transact([update, *(slot.action for slot in slots)])
        except TransactionCancelled as exc:
            if exc.failed(0):
                raise SendRefused() from exc
            if (slot := _slot_failed(exc, 1, slots)) is not None:
                raise SendLimited(slot) from exc
            raise ConcurrentUpdate() from exc

    def forget_send(self, email: Email, token_hash: str) -> None:
        """Undo `record_sent` when the email could not be sent, so a resend is allowed at once."""
        with contextlib.suppress(ConditionFailed):  # a newer send replaced it: that one stands
            self.table.update(
                email.item_key,
                UpdateExpression="REMOVE token_hash, token_expires_at, verification_sent_at",
                ConditionExpression="token_hash = :hash",
                ExpressionAttributeValues=values(hash=token_hash),
            )

    def verify(self, email: Email, now: str, make_primary: bool, *, also: Sequence[TransactItem] = ()) -> None:
        """Mark the address verified (only with the token just checked: single use) and claim
        its marker; make it the primary if the account has none."""
        sub = email.sub
        primary_set = ", #primary = :true" if make_primary else ""
        actions: list[TransactItem] = [
            {
                "Update": {
                    "Key": marshal(email.item_key),
                    "UpdateExpression": "SET verified = :true, verified_at = :now"
                    + primary_set
                    + " REMOVE token_hash, token_expires_at, expires_at",
                    "ConditionExpression": "token_hash = :hash",
                    "ExpressionAttributeValues": values(true=True, now=now, hash=email.token_hash),
                    **({"ExpressionAttributeNames": {"#primary": "primary"}} if make_primary else {}),
                }
            },
            {"Put": {"Item": marshal(email.marker()), "ConditionExpression": "attribute_not_exists(PK)"}},
        ]
        if make_primary:
            actions.append(
                {
                    "Update": {
                        "Key": marshal(keys.profile_key(sub)),
                        "UpdateExpression": "SET primary_email = :primary, updated_at = :now, version = version + :one",
                        "ConditionExpression": "#status = :active AND attribute_not_exists(primary_email)",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": values(
                            primary={"address": email.address, "verified": True}, now=now, one=1, active=ACTIVE
                        ),
                    }
                }
            )
        else:
            # An account being deleted claims nothing: its erasure may already have run.
            actions.append(account_is_active(sub))
        actions += also
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            if exc.failed(0):
                raise InvalidVerificationToken("This verification link has been used or replaced.") from exc
            if exc.failed(1):
                raise EmailTaken("Another account verified this address first.") from exc
            raise ConcurrentUpdate() from exc

    def set_primary(self, new: Email, previous: Email | None, now: str, *, also: Sequence[TransactItem] = ()) -> None:
        """Move the primary flag from `previous` to `new` (verified) and mirror it on the profile:
        one transaction, so an account never has zero or two primaries."""
        sub = new.sub
        names = {"#primary": "primary"}
        actions: list[TransactItem] = [
            {
                "Update": {
                    "Key": marshal(new.item_key),
                    "UpdateExpression": "SET #primary = :true",
                    "ConditionExpression": "verified = :true AND (attribute_not_exists(#primary) OR #primary = :false)",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values(true=True, false=False),
                }
            },
        ]
        profile_condition = "#status = :active AND attribute_not_exists(primary_email)"
        profile_values = values(primary={"address": new.address, "verified": True}, now=now, one=1, active=ACTIVE)
        if previous is not None:
            actions.append(
                {
                    "Update": {
                        "Key": marshal(previous.item_key),
                        "UpdateExpression": "SET #primary = :false",
                        "ConditionExpression": "#primary = :true",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values(true=True, false=False),
                    }
                }
            )
            profile_condition = "#status = :active AND primary_email.address = :previous"
            profile_values |= values(previous=previous.address)
        actions.append(
            {
                "Update": {
                    "Key": marshal(keys.profile_key(sub)),
                    "UpdateExpression": "SET primary_email = :primary, updated_at = :now, version = version + :one",
                    "ConditionExpression": profile_condition,
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": profile_values,
                }
            }
        )
        actions += also
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            raise ConcurrentUpdate("The primary address changed meanwhile; reload and retry.") from exc

    def remove(self, email: Email, primary: Email | None, *, also: Sequence[TransactItem] = ()) -> None:
        """Remove a non-primary address and free its marker. A verified address goes only
        while a verified primary remains (checked in the same transaction)."""
        sub = email.sub
        actions: list[TransactItem] = [
            {
                "Delete": {
                    "Key": marshal(email.item_key),
                    "ConditionExpression": "attribute_exists(PK) AND "
                    "(attribute_not_exists(#primary) OR #primary = :false)",
                    "ExpressionAttributeNames": {"#primary": "primary"},
                    "ExpressionAttributeValues": values(false=False),
                }
            },
        ]
        if email.verified:
            if primary is None:
                raise LastVerifiedEmailRemoval("Add and verify another address first.")
            actions += [
                {"Delete": {"Key": marshal(email_marker_key(email.key)), **owned_by(sub)}},
                {
                    "ConditionCheck": {
                        "Key": marshal(primary.item_key),
                        "ConditionExpression": "#primary = :true AND verified = :true",
                        "ExpressionAttributeNames": {"#primary": "primary"},
                        "ExpressionAttributeValues": values(true=True),
                    }
                },
            ]
        actions += also
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            if exc.failed(0) and not email.primary:
                raise PrimaryEmailRemoval("It became the primary address meanwhile; choose another first.") from exc
            raise ConcurrentUpdate() from exc

    def erase(self, sub: str) -> None:
        """Remove every address of the account and free the markers it holds."""
        emails = self.list(sub)
        for email in emails:
            self.table.delete_if_owned(email_marker_key(email.key), sub)
        self.table.delete_many(email.item_key for email in emails)
