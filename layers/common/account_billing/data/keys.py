"""Key design of the single table (DESIGN §4)."""

from __future__ import annotations

from typing import TypedDict


class Key(TypedDict):
    PK: str
    SK: str


PROFILE = "PROFILE"
TOMBSTONE = "TOMBSTONE"


def account_pk(sub: str) -> str:
    return f"ACCOUNT#{sub}"


def profile_key(sub: str) -> Key:
    return {"PK": account_pk(sub), "SK": PROFILE}


def tombstone_key(sub: str) -> Key:
    return {"PK": account_pk(sub), "SK": TOMBSTONE}


def handle_marker_key(user_id_key: str) -> Key:
    """The marker that makes a User ID unique; `user_id_key` is already lowercased."""
    return {"PK": f"HANDLE#{user_id_key}", "SK": "HANDLE"}


def email_item_key(sub: str, address_key: str) -> Key:
    return {"PK": account_pk(sub), "SK": f"EMAIL#{address_key}"}


def email_marker_key(address_key: str) -> Key:
    """The marker that gives a verified address to one account; `address_key` is lowercased."""
    return {"PK": f"EMAIL#{address_key}", "SK": "EMAIL"}
