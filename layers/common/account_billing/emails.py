"""Email addresses of an account. An address compares case-insensitively and is stored as
typed; a verified address belongs to one account, through its marker item (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .data import keys
from .data.table import Table

# RFC 5321 limits a forward path to 254 characters.
MAX_ADDRESS_LENGTH = 254


def address_key(address: str) -> str:
    return address.lower()


def verified_primary_items(sub: str, address: str, now: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The email item and marker of an address the identity provider has already verified."""
    key = address_key(address)
    item = {
        **keys.email_item_key(sub, key),
        "entity": "email",
        "address": address,
        "verified": True,
        "primary": True,
        "added_at": now,
        "verified_at": now,
    }
    marker = {**keys.email_marker_key(key), "owner": sub}
    return item, marker


def usable_token_email(email: str | None) -> str | None:
    """An address from the token worth recording: present, bounded, shaped like an address."""
    if not email or len(email) > MAX_ADDRESS_LENGTH or email.count("@") != 1:
        return None
    local, domain = email.split("@")
    return email if local and "." in domain and not any(c.isspace() for c in email) else None


class EmailErasure:
    """Erases every address of an account and frees the markers it holds."""

    name = "emails"

    def __init__(self, table: Table) -> None:
        self.table = table

    def erase(self, account: Mapping[str, Any]) -> None:
        sub = account["sub"]
        items = list(self.table.query_partition(keys.account_pk(sub), "EMAIL#"))
        for item in items:
            self.table.delete_if_owned(keys.email_marker_key(address_key(item["address"])), sub)
        self.table.delete_many(keys.Key(PK=item["PK"], SK=item["SK"]) for item in items)
