"""The avatar routes' logic: a presigned upload, and removal of the published avatar."""

from __future__ import annotations

from datetime import timedelta

from account_billing.activity.records import ActivityKind
from account_billing.activity.service import ActivityLog
from account_billing.avatars import keys, state
from account_billing.avatars.models import AvatarUpload, AvatarUploadRequest
from account_billing.avatars.policy import EXPIRES_IN_SECONDS, MAX_BYTES, presigned_post
from account_billing.avatars.storage import AvatarStorage
from account_billing.avatars.store import AvatarStore
from account_billing.core.clock import Clock, timestamp, utc_now
from account_billing.core.errors import TooManyRequests
from account_billing.core.identity import Caller
from account_billing.core.observability import metrics
from account_billing.core.ratelimit_windows import LimitReached, WindowCounters, WindowLimit

# After the form expires, an upload sent just in time still has this long to land and be
# checked; past it, the avatar stops showing as pending.
PENDING_GRACE = timedelta(minutes=10)


class AvatarService:
    def __init__(
        self,
        store: AvatarStore,
        storage: AvatarStorage,
        counters: WindowCounters,
        form_limit: WindowLimit,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.storage = storage
        self.counters = counters
        self.form_limit = form_limit
        self.clock = clock

    def request_upload(self, caller: Caller, request: AvatarUploadRequest) -> AvatarUpload:
        """A form to upload one image to a fresh key; the avatar is pending until it is checked.
        At most `form_limit` forms per account per window (each can make the validator read and
        decode 20 MB): past it, 429 until the window ends."""
        try:
            self.counters.count(self.form_limit, caller.sub)
        except LimitReached as exc:
            metrics.add_metric(name="AvatarUploadLimited", unit="Count", value=1)
            raise TooManyRequests(
                f"At most {self.form_limit.limit} avatar uploads an hour; try again in {exc.retry_after} s.",
                exc.retry_after,
            ) from exc
        now = self.clock()
        upload_id = keys.new_upload_id(int(now.timestamp() * 1000))
        expires_at = now + timedelta(seconds=EXPIRES_IN_SECONDS)
        self.store.request_upload(caller.sub, upload_id, timestamp(expires_at + PENDING_GRACE))
        form = presigned_post(
            self.storage.s3, self.storage.bucket, keys.upload_key(caller.sub, upload_id), request.content_type
        )
        metrics.add_metric(name="AvatarUploadRequested", unit="Count", value=1)
        return AvatarUpload(
            upload_id=upload_id,
            url=form["url"],
            fields=form["fields"],
            content_type=request.content_type,
            max_bytes=MAX_BYTES,
            expires_at=expires_at,
        )

    def remove(self, caller: Caller) -> None:
        """Remove the published avatar (the profile shows initials again) and its objects.
        Idempotent: with no avatar, nothing changes."""
        before = self.store.remove(caller.sub).avatar
        avatar = before
        if state.decided_upload(before):
            ActivityLog.of(self.store.table, self.clock).record(caller, ActivityKind.AVATAR_REMOVED)
        self.storage.sweep(caller.sub, state.decided_upload(avatar), state.objects_in_use(avatar))
