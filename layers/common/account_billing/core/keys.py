"""Key design of the single table (DESIGN §4): the key type and the account's partition. Each feature
builds the keys of its own items in its `records` or `store` module."""

from __future__ import annotations

from typing import TypedDict


class Key(TypedDict):
    PK: str
    SK: str


PROFILE = "PROFILE"
TOMBSTONE = "TOMBSTONE"


ACCOUNT_PREFIX = "ACCOUNT#"


def account_pk(sub: str) -> str:
    return f"{ACCOUNT_PREFIX}{sub}"


def sub_of(pk: str) -> str:
    """The account key of an item in an account's partition."""
    return pk.removeprefix(ACCOUNT_PREFIX)


def profile_key(sub: str) -> Key:
    return {"PK": account_pk(sub), "SK": PROFILE}


def tombstone_key(sub: str) -> Key:
    return {"PK": account_pk(sub), "SK": TOMBSTONE}
