"""The avatar bucket: uploads read and deleted, avatars published, swept and erased."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from account_billing.avatars import keys
from account_billing.core.settings import MissingSetting, Settings, get_settings
from account_billing.core.wiring import AWS_CLIENT_CONFIG, per_container

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

# DeleteObjects takes at most 1000 keys a call.
MAX_DELETE = 1000
# Published objects never change (a new avatar gets a new key): caches may keep them.
IMMUTABLE = "public, max-age=31536000, immutable"


def s3_config(addressing_style: str) -> Config:
    """Presigned POSTs are signed with Signature Version 4 and go to the bucket's regional
    virtual-hosted endpoint (the global one redirects for a new bucket); an emulator's own
    endpoint is addressed path-style (the `s3_addressing_style` setting says which)."""
    if addressing_style == "virtual":
        return AWS_CLIENT_CONFIG.merge(Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
    return AWS_CLIENT_CONFIG.merge(Config(signature_version="s3v4"))


@per_container
def s3_client() -> S3Client:
    return boto3.client("s3", config=s3_config(get_settings().s3_addressing_style))


@dataclass(frozen=True, slots=True)
class UploadObject:
    """An uploaded object: its size and, unless it is larger than the limit read with, its bytes."""

    size: int
    data: bytes


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")


class AvatarStorage:
    """The avatar bucket and the base URL its published objects are served from."""

    def __init__(self, s3: S3Client, bucket: str, base_url: str | None = None) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.base_url = base_url.rstrip("/") if base_url else None

    @classmethod
    def from_settings(cls, s3: S3Client, settings: Settings | None = None, *, serving: bool = False) -> AvatarStorage:
        settings = settings or get_settings()
        if not settings.avatar_bucket:
            raise MissingSetting("AVATAR_BUCKET")
        if serving and not settings.avatar_base_url:
            raise MissingSetting("AVATAR_BASE_URL")
        return cls(s3, settings.avatar_bucket, settings.avatar_base_url)

    def url_of(self, key: str) -> str:
        if self.base_url is None:
            raise MissingSetting("AVATAR_BASE_URL")
        return f"{self.base_url}/{quote(key, safe='/')}"

    def read(self, key: str, limit: int) -> UploadObject | None:
        """The object at `key` (its bytes only if at most `limit`), or None if it is gone."""
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        body = response["Body"]
        try:
            size = int(response["ContentLength"])
            return UploadObject(size=size, data=b"" if size > limit else body.read(limit + 1))
        finally:
            body.close()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, CacheControl=IMMUTABLE)

    def keys_under(self, prefix: str) -> Iterator[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            yield from (item["Key"] for item in page.get("Contents", []))

    def delete(self, object_keys: Iterable[str]) -> None:
        """Delete objects (absent ones are fine), in batches; raise if S3 could not delete one."""
        pending = sorted(set(object_keys))
        while pending:
            batch, pending = pending[:MAX_DELETE], pending[MAX_DELETE:]
            response = self.s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )
            if errors := response.get("Errors"):
                raise RuntimeError(f"S3 did not delete {len(errors)} object(s): {errors[0].get('Code')}")

    def sweep(self, sub: str, decided: str | None, in_use: frozenset[str]) -> None:
        """Delete the account's published objects from uploads up to `decided` that are not in
        use: superseded avatars, and whatever an interrupted or losing run left behind.
        Newer versions belong to uploads still being decided and are left alone."""
        if decided is None:
            return
        self.delete(
            key
            for key in self.keys_under(keys.avatar_prefix(sub))
            if key not in in_use and (version := keys.published_version(sub, key)) is not None and version <= decided
        )

    def erase(self, sub: str) -> None:
        """Delete every object of the account: its uploads and its published avatars."""
        for prefix in (keys.upload_prefix(sub), keys.avatar_prefix(sub)):
            self.delete(self.keys_under(prefix))
