"""Email addresses as stored (DESIGN §4): an address of an account (`ACCOUNT#<sub>` /
`EMAIL#<address key>`), and the marker that gives a verified address to one account
(`EMAIL#<address key>` / `EMAIL`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from account_billing.core import keys
from account_billing.core.records import from_item, to_item
from account_billing.emails.addresses import address_key

EMAIL_PREFIX = "EMAIL#"
# What sending verification emails records on an address.
_SENDING = ("token_hash", "token_expires_at", "verification_sent_at", "send_count")


def email_item_key(sub: str, key: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"{EMAIL_PREFIX}{key}"}


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
        """The item of a new address (its verification emails are recorded as they are sent)."""
        return to_item(self, self.item_key, "email", leave_out=("sub", *_SENDING))

    def marker(self) -> dict[str, Any]:
        """The marker that gives this address to its account."""
        return email_marker(self.key, self.sub)
