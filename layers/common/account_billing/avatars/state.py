"""The avatar as the profile item stores it, and what callers see of it (pure).

Two attributes of the profile item:

- `avatar`: the outcome of the newest upload decided, `{status, url, thumbnail_url,
  rejection_reason, upload, objects, decided_at}`. `status` is `none`, `ready` or `rejected`;
  `upload` is the id of that upload. A decision is written only for an upload newer than
  `upload` (a compare-and-set on it), so an older upload finishing late never replaces a newer
  avatar, and a repeated event never decides twice. `objects` are the keys of the published
  avatar in use: a rejected upload leaves the previous avatar in place.
- `avatar_upload`: `{id, pending_until}`, the newest upload the caller asked for. While it is
  newer than the last decision and not expired, the avatar shows as `pending`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from account_billing.core.clock import parse_timestamp


class AvatarStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"  # shown only: an upload asked for may still arrive
    READY = "ready"
    REJECTED = "rejected"


# What a decision keeps of the avatar in use.
_IN_USE = ("url", "thumbnail_url", "objects")


def decided_upload(avatar: Mapping[str, Any]) -> str | None:
    """The id of the newest upload decided, if any."""
    upload = avatar.get("upload")
    return upload if isinstance(upload, str) else None


def is_newer(upload_id: str, avatar: Mapping[str, Any]) -> bool:
    """Whether an upload is newer than every upload already decided for this avatar."""
    decided = decided_upload(avatar)
    return decided is None or upload_id > decided


def objects_in_use(avatar: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(avatar.get("objects") or ())


def published(upload_id: str, url: str, thumbnail_url: str, objects: list[str], now: str) -> dict[str, Any]:
    """The avatar once the image of `upload_id` is published."""
    return {
        "status": AvatarStatus.READY,
        "url": url,
        "thumbnail_url": thumbnail_url,
        "objects": objects,
        "upload": upload_id,
        "decided_at": now,
    }


def rejected(previous: Mapping[str, Any], upload_id: str, code: str, reason: str, now: str) -> dict[str, Any]:
    """The avatar once `upload_id` is rejected: the avatar in use (if any) stays."""
    return {
        **{name: previous[name] for name in _IN_USE if previous.get(name)},
        "status": AvatarStatus.REJECTED,
        "rejection_code": code,
        "rejection_reason": reason,
        "upload": upload_id,
        "decided_at": now,
    }


def pending_upload(avatar: Mapping[str, Any], requested: Mapping[str, Any] | None, now: datetime) -> bool:
    """Whether an upload the caller asked for (`avatar_upload`) may still arrive and is not
    decided yet."""
    upload_id, until = (requested or {}).get("id"), (requested or {}).get("pending_until")
    if not isinstance(upload_id, str) or not isinstance(until, str):
        return False
    return is_newer(upload_id, avatar) and parse_timestamp(until) > now


def visible_state(
    avatar: Mapping[str, Any], requested: Mapping[str, Any] | None, now: datetime, *, public: bool = False
) -> dict[str, Any]:
    """The avatar's status, URLs and rejection reason as shown to the owner, or to anyone
    (`public`: only the image in use, never an upload in progress or a rejection)."""
    url, thumbnail_url = avatar.get("url"), avatar.get("thumbnail_url")
    shown = {"url": url, "thumbnail_url": thumbnail_url, "rejection_reason": None}
    if public:
        return {**shown, "status": AvatarStatus.READY if url else AvatarStatus.NONE}
    if pending_upload(avatar, requested, now):
        return {**shown, "status": AvatarStatus.PENDING}
    status = avatar.get("status", AvatarStatus.NONE)
    if status == AvatarStatus.REJECTED:
        return {**shown, "status": AvatarStatus.REJECTED, "rejection_reason": avatar.get("rejection_reason")}
    return {**shown, "status": AvatarStatus.READY if status == AvatarStatus.READY and url else AvatarStatus.NONE}
