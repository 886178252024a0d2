"""Where avatar objects live in the bucket, and the upload ids that order them (pure)."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

UPLOADS = "uploads/"
AVATARS = "avatars/"

# An upload id: the issuing time in milliseconds (12 hex digits, so ids sort by time as
# strings) followed by 64 random bits.
_UPLOAD_ID = re.compile(r"^[0-9a-f]{28}$")
_TIME_DIGITS = 12


def new_upload_id(now_ms: int | None = None) -> str:
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    return f"{millis:0{_TIME_DIGITS}x}{secrets.token_hex(8)}"


def is_upload_id(value: str) -> bool:
    return bool(_UPLOAD_ID.match(value))


def issued_at(upload_id: str) -> datetime:
    """When an upload id was issued."""
    return datetime.fromtimestamp(int(upload_id[:_TIME_DIGITS], 16) / 1000, tz=UTC)


def _segment(sub: str) -> str:
    # The account key as one path segment: a `/` in a subject could otherwise make one
    # account's prefix contain another's. UUID-like subjects are unchanged.
    return quote(sub, safe="")


def upload_prefix(sub: str) -> str:
    return f"{UPLOADS}{_segment(sub)}/"


def avatar_prefix(sub: str) -> str:
    return f"{AVATARS}{_segment(sub)}/"


def upload_key(sub: str, upload_id: str) -> str:
    return f"{upload_prefix(sub)}{upload_id}"


def published_key(sub: str, upload_id: str, name: str) -> str:
    """`name` is `avatar.jpg`, `thumbnail.png`...: one object of the avatar published from an upload."""
    return f"{avatar_prefix(sub)}{upload_id}/{name}"


@dataclass(frozen=True, slots=True)
class Upload:
    """An object under `uploads/`: whose it is and which upload it was."""

    key: str
    sub: str
    upload_id: str


def parse_upload_key(key: str) -> Upload | None:
    """The upload an object key names (already URL-decoded), or None for any other key."""
    if not key.startswith(UPLOADS):
        return None
    segment, slash, upload_id = key[len(UPLOADS) :].partition("/")
    if not slash or not segment or not is_upload_id(upload_id):
        return None
    sub = unquote(segment)
    if _segment(sub) != segment:  # only the keys this module makes
        return None
    return Upload(key=key, sub=sub, upload_id=upload_id)


def published_version(sub: str, key: str) -> str | None:
    """The upload id of a published object's key under the account's prefix, if it is one."""
    prefix = avatar_prefix(sub)
    if not key.startswith(prefix):
        return None
    version, slash, _ = key[len(prefix) :].partition("/")
    return version if slash and is_upload_id(version) else None
