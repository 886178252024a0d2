"""Rules for User IDs, the unique handle shown in URLs and API references.

A User ID is one or more ASCII alphanumeric strings joined by single hyphens or underscores,
3 to 39 characters long. It is not case-sensitive: it is unique case-insensitively and stored
as typed. A short list of names is reserved for the platform, and so is every User ID that
looks like one of them: the same skeleton, in the sense of Unicode TR39 (confusable
detection), as User IDs compare (case-insensitively, separators aside): `adm1n`, `admIn`,
`r00t`, `rne` (for `me`) are refused.
"""

from __future__ import annotations

import re
from functools import cache

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


# Unicode TR39's confusables (confusables.txt) among the characters a User ID may hold (ASCII
# letters and digits): a character and the sequence it is confusable with. Derived from the
# data the `confusable_homoglyphs` package ships; tests/accounts/test_user_ids.py checks this
# table against it, so it neither misses nor invents a pair. (TR39 pairs no other ASCII
# letters and digits: `5`/`s` or `vv`/`w`, say, are not confusables by its data.)
TR39_ASCII_CONFUSABLES = (("0", "O"), ("1", "l"), ("I", "l"), ("m", "rn"))


@cache
def _classes() -> dict[str, str]:
    """Each character's class in a skeleton: TR39's single-character confusables joined with
    the case pairs (User IDs compare case-insensitively, so `I`, `i`, `l` and `1` are one),
    named by their smallest member."""
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.setdefault(c, c) != c:
            c = parent[c]
        return c

    pairs = [(a, b) for a, b in TR39_ASCII_CONFUSABLES if len(a) == len(b) == 1]
    letters = {c for pair in pairs for c in pair}
    for a, b in [*pairs, *((c, c.lower()) for c in letters)]:
        first, second = sorted((find(a), find(b)))
        parent[second] = first
    return {c: find(c) for c in list(parent)}


def skeleton(value: str) -> str:
    """What `value` looks like as a User ID (TR39's skeleton, case-insensitive, without
    separators): two User IDs with the same skeleton are confusable."""
    text = re.sub(r"[-_]", "", value).lower()
    for source, prototype in TR39_ASCII_CONFUSABLES:
        if len(source) == 1 and len(prototype) > 1:
            text = text.replace(source.lower(), prototype.lower())
    classes = _classes()
    return "".join(classes.get(c, c) for c in text)


@cache
def _reserved_skeletons() -> frozenset[str]:
    return frozenset(skeleton(name) for name in RESERVED)


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
    if skeleton(value) in _reserved_skeletons():
        raise ValueError("looks like a reserved name")
    return value


def is_valid_user_id(value: str) -> bool:
    try:
        check_user_id(value)
    except ValueError:
        return False
    return True
