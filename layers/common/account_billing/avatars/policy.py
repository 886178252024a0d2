"""The rules of an avatar upload and the presigned POST that enforces them at S3 (pure).

A presigned POST, not a PUT: only a POST policy can bound the size (`content-length-range`).
The policy pins the exact key and one content type; S3 refuses any other upload. The validator
still checks the real bytes, since a content type says nothing about the content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

# "20 MB", read generously: 20 MiB.
MAX_BYTES = 20 * 1024 * 1024
CONTENT_TYPES = ("image/jpeg", "image/png")
# The form must be used within minutes; the upload is checked as soon as it lands.
EXPIRES_IN_SECONDS = 300


def post_conditions(content_type: str) -> list[Any]:
    """The POST policy conditions besides the bucket and key, which boto3 adds itself."""
    if content_type not in CONTENT_TYPES:
        raise ValueError(f"unsupported content type {content_type!r}")
    return [
        ["content-length-range", 1, MAX_BYTES],
        {"Content-Type": content_type},
    ]


def presigned_post(s3: S3Client, bucket: str, key: str, content_type: str) -> dict[str, Any]:
    """`{"url": ..., "fields": {...}}`: the form a browser posts, the file as its last field."""
    result: dict[str, Any] = s3.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=post_conditions(content_type),
        ExpiresIn=EXPIRES_IN_SECONDS,
    )
    return result
