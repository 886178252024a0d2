"""Opaque cursors for cursor-paginated lists (`limit`, `cursor` → `next_cursor`).

A cursor carries only the sort key to continue after; the partition is always the caller's own,
so a cursor can never reach another account's items.
"""

from __future__ import annotations

import base64
import binascii
import json

from account_billing.core.errors import InvalidCursor


def encode_cursor(sort_key: str | None) -> str | None:
    if sort_key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"after": sort_key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, prefix: str) -> str | None:
    """The sort key a cursor continues after; `InvalidCursor` unless it is one of ours for this list."""
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise InvalidCursor("The cursor is not one this list gave out.") from exc
    if not isinstance(after, str) or not after.startswith(prefix):
        raise InvalidCursor("The cursor is not one this list gave out.")
    return after
