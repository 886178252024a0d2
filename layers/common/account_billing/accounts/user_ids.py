"""Rules for User IDs, the unique handle shown in URLs and API references.

A User ID is one or more ASCII alphanumeric strings joined by single hyphens or underscores,
3 to 39 characters long. It is not case-sensitive: it is unique case-insensitively and stored
as typed. A short list of names is reserved for the platform.
"""

from __future__ import annotations

import re

MIN_LENGTH = 3
MAX_LENGTH = 39
PATTERN = r"^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$"
_SHAPE = re.compile(PATTERN)

# Compared after lowercasing and dropping separators, so `Ad-Min` is reserved too.
RESERVED = frozenset(
    {
        "abuse", "account", "accounts", "admin", "administrator", "api", "app", "apps",
        "billing", "community", "docs", "help", "hostmaster", "invoice", "invoices", "login",
        "logout", "me", "noreply", "null", "official", "payments", "postmaster", "root",
        "security", "settings", "signin", "signup", "staff", "status", "support", "system",
        "team", "undefined", "user", "users", "webmaster", "www",
    }
)  # fmt: skip


def user_id_key(user_id: str) -> str:
    """The case-insensitive key that makes a User ID unique."""
    return user_id.lower()


def check_user_id(value: str) -> str:
    """Return `value` unchanged if it is a valid, unreserved User ID; raise `ValueError` otherwise."""
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        raise ValueError(f"must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    if not _SHAPE.fullmatch(value):
        raise ValueError("must be letters and digits (A-Z, 0-9), in groups joined by single hyphens or underscores")
    if re.sub(r"[-_]", "", value.lower()) in RESERVED:
        raise ValueError("is reserved")
    return value


def is_valid_user_id(value: str) -> bool:
    try:
        check_user_id(value)
    except ValueError:
        return False
    return True
