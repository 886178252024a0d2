"""Email addresses as stored (DESIGN §4): an address of an account (`ACCOUNT#<sub>` /
`EMAIL#<address key>`), the marker that gives a verified address to one account
(`EMAIL#<address key>` / `EMAIL`), and the account's address book (`ACCOUNT#<sub>` / `EMAILS`),
which counts the additions so that two concurrent ones are told apart.

An unverified address expires (`expires_at`): from then on it is gone to every reader, whether
or not DynamoDB's TTL has removed its item yet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from account_billing.core import keys
from account_billing.core.records import from_item, to_item
from account_billing.emails.addresses import address_key

EMAIL_PREFIX = "EMAIL#"
EMAIL_BOOK = "EMAILS"
# One Query reads the addresses and the book: every sort key starting so is one or the other.
ADDRESSES_AND_BOOK = "EMAIL"


def email_item_key(sub: str, key: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"{EMAIL_PREFIX}{key}"}


def email_book_key(sub: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": EMAIL_BOOK}


def email_marker_key(key: str) -> keys.Key:
    """The marker that gives a verified address to one account; `key` is the address key."""
    return {"PK": f"{EMAIL_PREFIX}{key}", "SK": "EMAIL"}


def email_marker(key: str, owner: str) -> dict[str, Any]:
    return {**email_marker_key(key), "owner": owner}


@dataclass(frozen=True, slots=True)
class Email:
    """One address of an account: unverified (with its pending token) or verified."""

    sub: str
    address: str
    added_at: str
    verified: bool = False
    primary: bool = False
    verified_at: str | None = None
    expires_at: int | None = None  # an unverified address goes (DynamoDB TTL)
    token_hash: str | None = None
    token_expires_at: int | None = None
    verification_sent_at: str | None = None
    send_count: int = 0

    @property
    def key(self) -> str:
        return address_key(self.address)

    def live(self, now: datetime) -> bool:
        """Verified, or unverified and not expired yet (its item may outlive it for a while)."""
        return self.verified or self.expires_at is None or self.expires_at > now.timestamp()

    @property
    def item_key(self) -> keys.Key:
        return email_item_key(self.sub, self.key)

    @classmethod
    def verified_primary(cls, sub: str, address: str, now: str) -> Email:
        """An address the identity provider has already verified."""
        return cls(sub=sub, address=address, added_at=now, verified=True, primary=True, verified_at=now)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Email:
        return from_item(cls, item, sub=keys.sub_of(item["PK"]))

    def to_item(self) -> dict[str, Any]:
        """The item of a new address (with its first verification email's token, if sent)."""
        return to_item(self, self.item_key, "email", leave_out=("sub",))

    def marker(self) -> dict[str, Any]:
        """The marker that gives this address to its account."""
        return email_marker(self.key, self.sub)
