"""What the S3-triggered validator does with an upload: decide, publish or reject, clean up.

The checks of the bytes themselves live in `images` (Pillow), handed in as an `Inspector` so
that this module, and everything that imports it, stays free of Pillow.

Every step is idempotent and ordered so that a repeated, late or interrupted run converges:
objects are published under keys derived from the upload id (a rerun writes the same keys),
the profile changes by compare-and-set on the last decided upload, and what a run supersedes
or leaves behind is swept by the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

from account_billing.accounts.records import Account
from account_billing.activity.records import ActivityKind
from account_billing.activity.service import ActivityLog
from account_billing.avatars import keys, state
from account_billing.avatars.policy import MAX_BYTES
from account_billing.avatars.storage import AvatarStorage
from account_billing.avatars.store import AvatarStore, DecisionRaced
from account_billing.core.clock import Clock, parse_timestamp, timestamp, utc_now
from account_billing.core.errors import ConcurrentUpdate
from account_billing.core.observability import logger, metrics
from account_billing.core.origin import Actor, Origin

# How many times a decision is retried when other decisions keep landing first.
DECIDE_ATTEMPTS = 5
# The time an upload's inspection may take: well inside the function's 60 s timeout (the
# template's), and over ten times the slowest valid upload measured (a 40 MP PNG, about 1.3 s
# on one core). What the inspection may cost is bounded before decoding (`images`); this is
# the backstop for whatever those bounds miss.
INSPECTION_SECONDS = 20.0
# An upload id issued before the account existed belongs to an earlier account of the same
# subject (deleted since): it is discarded. The leeway absorbs clock differences between hosts.
CLOCK_LEEWAY = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class EncodedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid upload, re-encoded: the avatar and its thumbnail, free of metadata."""

    avatar: EncodedImage
    thumbnail: EncodedImage


@dataclass(frozen=True, slots=True)
class Rejected:
    """An invalid upload: a stable code and a reason its owner understands."""

    code: str
    reason: str


Verdict = Accepted | Rejected


class Inspector(Protocol):
    """The checks of an upload's bytes (`images.inspect`): `expired` says when the time budget
    is spent, for the inspector to stop at its next stage."""

    def __call__(self, data: bytes, *, expired: Callable[[], bool] = ...) -> Verdict: ...


EMPTY = Rejected("empty", "The file is empty. Choose a JPEG or PNG image.")
TOO_LARGE = Rejected("too-large", f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Choose a smaller image.")
TOO_COMPLEX = Rejected(
    "too-complex",
    "The image takes too long to check. Save it again as a plain JPEG or PNG and upload that.",
)


class Outcome(StrEnum):
    PUBLISHED = "published"  # the upload is the avatar now
    REJECTED = "rejected"  # the upload was invalid; the reason is on the profile
    DUPLICATE = "duplicate"  # this upload was already decided (a repeated event)
    SUPERSEDED = "superseded"  # a newer upload was already decided: this one is discarded
    ORPHANED = "orphaned"  # the account is gone (or newer than the upload): nothing kept
    GONE = "gone"  # the upload was already processed and deleted
    IGNORED = "ignored"  # not an upload


def _owns(account: Account | None, upload: keys.Upload) -> bool:
    """Whether the upload belongs to the active account it names."""
    if account is None or not account.active:
        return False
    return keys.issued_at(upload.upload_id) >= parse_timestamp(account.created_at) - CLOCK_LEEWAY


def size_verdict(size: int) -> Rejected | None:
    """The verdict on an upload's size alone (known before reading it), if it decides."""
    if size == 0:
        return EMPTY
    if size > MAX_BYTES:
        return TOO_LARGE
    return None


def within_time_budget(inspect: Inspector, data: bytes, seconds: float) -> Verdict:
    """`inspect(data)`, or `TOO_COMPLEX` once `seconds` have passed without a verdict.

    The inspection runs in a thread of its own (a daemon: it never holds the process up) and
    is told to stop at its next stage; what it raises is raised here."""
    done, cancelled = threading.Event(), threading.Event()
    outcome: list[Verdict | BaseException] = []

    def run() -> None:
        try:
            outcome.append(inspect(data, expired=cancelled.is_set))
        except BaseException as exc:  # handed to the caller below
            outcome.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="avatar-inspection", daemon=True).start()
    if not done.wait(seconds):
        cancelled.set()
        metrics.add_metric(name="AvatarInspectionOutOfTime", unit="Count", value=1)
        logger.warning("Avatar inspection ran out of time", extra={"seconds": seconds, "bytes": len(data)})
        return TOO_COMPLEX
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


class AvatarValidator:
    def __init__(
        self,
        store: AvatarStore,
        storage: AvatarStorage,
        inspect: Inspector,
        clock: Clock = utc_now,
        *,
        time_budget: float = INSPECTION_SECONDS,
    ) -> None:
        self.store = store
        self.storage = storage
        self.inspect = inspect
        self.clock = clock
        self.time_budget = time_budget
        self.activity = ActivityLog.of(store.table, clock)

    def handle(self, key: str) -> Outcome:
        """Process the object at `key` (URL-decoded), as an S3 ObjectCreated event names it."""
        upload = keys.parse_upload_key(key)
        if upload is None:
            return Outcome.IGNORED
        account = self.store.get(upload.sub)
        if account is None or not _owns(account, upload):
            self.storage.delete([key])
            return Outcome.ORPHANED
        if not state.is_newer(upload.upload_id, account.avatar):
            return self._settle(upload, account.avatar, discard=())
        found = self.storage.read(key, MAX_BYTES)
        if found is None:
            return Outcome.GONE
        verdict = size_verdict(found.size) or within_time_budget(self.inspect, found.data, self.time_budget)
        return self._decide(upload, account, verdict)

    def _decide(self, upload: keys.Upload, account: Account, verdict: Verdict) -> Outcome:
        now = timestamp(self.clock())
        published: list[str] = []
        if isinstance(verdict, Accepted):
            published = self._publish(upload, verdict)
            url, thumbnail_url = (self.storage.url_of(key) for key in published)

            def decision(previous: Mapping[str, Any]) -> dict[str, Any]:
                return state.published(upload.upload_id, url, thumbnail_url, published, now)
        else:

            def decision(previous: Mapping[str, Any]) -> dict[str, Any]:
                return state.rejected(previous, upload.upload_id, verdict.code, verdict.reason, now)

        current: Account | None = account
        for _ in range(DECIDE_ATTEMPTS):
            if current is None or not current.active:
                self.storage.delete([*published, upload.key])
                return Outcome.ORPHANED
            avatar = current.avatar
            if not state.is_newer(upload.upload_id, avatar):
                return self._settle(upload, avatar, discard=published)
            try:
                decided = self.store.decide(upload.sub, state.decided_upload(avatar), decision(avatar))
            except DecisionRaced as raced:
                current = raced.current
                continue
            self._settle(upload, decided.avatar, discard=())
            self._log(upload, verdict)
            return self._report(upload, verdict)
        raise ConcurrentUpdate("Other uploads kept being decided first; the event will be retried.")

    def _publish(self, upload: keys.Upload, accepted: Accepted) -> list[str]:
        published = []
        for name, image in (("avatar", accepted.avatar), ("thumbnail", accepted.thumbnail)):
            key = keys.published_key(upload.sub, upload.upload_id, f"{name}.{image.extension}")
            self.storage.put(key, image.data, image.content_type)
            published.append(key)
        return published

    def _settle(self, upload: keys.Upload, avatar: Mapping[str, Any], discard: list[str] | tuple[()]) -> Outcome:
        """Once `avatar` is decided: delete the upload, what this run published if not in use,
        and every superseded avatar. Says whether the upload was this decision or an older one."""
        in_use = state.objects_in_use(avatar)
        self.storage.delete([key for key in discard if key not in in_use])
        self.storage.sweep(upload.sub, state.decided_upload(avatar), in_use)
        self.storage.delete([upload.key])
        return Outcome.DUPLICATE if state.decided_upload(avatar) == upload.upload_id else Outcome.SUPERSEDED

    def _log(self, upload: keys.Upload, verdict: Verdict) -> None:
        """The decision in the account's activity log, once per upload (its id keys the entry)."""
        origin = Origin(actor=Actor.SYSTEM, operation=f"avatar:{upload.upload_id}", at=timestamp(self.clock()))
        if isinstance(verdict, Accepted):
            self.activity.record(upload.sub, ActivityKind.AVATAR_PUBLISHED, origin=origin)
        else:
            self.activity.record(upload.sub, ActivityKind.AVATAR_REJECTED, origin=origin, reason=verdict.reason)

    def _report(self, upload: keys.Upload, verdict: Verdict) -> Outcome:
        if isinstance(verdict, Accepted):
            metrics.add_metric(name="AvatarPublished", unit="Count", value=1)
            return Outcome.PUBLISHED
        metrics.add_metric(name="AvatarRejected", unit="Count", value=1)
        logger.info("Avatar upload rejected", extra={"upload_id": upload.upload_id, "code": verdict.code})
        return Outcome.REJECTED
