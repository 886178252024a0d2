"""The export bucket: an archive's multipart upload and its checkpoint, the download URL, and
erasing what an account (or one export) left there. Keys: `exports/<sub>/<export id>/...`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from botocore.exceptions import ClientError

from account_billing.exports.errors import ExportGone

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

ROOT = "exports/"
ARCHIVE = "archive.zip"
CHECKPOINT = "checkpoint.json"
ENCRYPTION: Final[Literal["AES256"]] = "AES256"  # and the bucket encrypts by default, too
MAX_DELETE = 1000


def account_prefix(sub: str) -> str:
    return f"{ROOT}{sub}/"


def export_prefix(sub: str, export_id: str) -> str:
    return f"{account_prefix(sub)}{export_id}/"


def archive_key(sub: str, export_id: str) -> str:
    return export_prefix(sub, export_id) + ARCHIVE


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class ExportStorage:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    # ------------------------------------------------------------------ the archive's upload
    def begin(self, key: str) -> str:
        """Start the multipart upload of an archive; its upload id."""
        response = self.s3.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType="application/zip", ServerSideEncryption=ENCRYPTION
        )
        return response["UploadId"]

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Upload part `number`; its ETag. `ExportGone` if the upload was aborted (the account's
        erasure does that)."""
        try:
            response = self.s3.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
        except ClientError as exc:
            if _code(exc) == "NoSuchUpload":
                raise ExportGone(key) from exc
            raise
        return response["ETag"]

    def complete(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        try:
            self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
            )
        except ClientError as exc:
            if _code(exc) == "NoSuchUpload":
                raise ExportGone(key) from exc
            raise

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, sub: str, export_id: str, checkpoint: dict[str, Any]) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=export_prefix(sub, export_id) + CHECKPOINT,
            Body=json.dumps(checkpoint, separators=(",", ":")).encode(),
            ContentType="application/json",
            ServerSideEncryption=ENCRYPTION,
        )

    def load_checkpoint(self, sub: str, export_id: str) -> dict[str, Any] | None:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=export_prefix(sub, export_id) + CHECKPOINT)
        except ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        with response["Body"] as body:
            data: dict[str, Any] = json.loads(body.read())
        return data

    def drop_checkpoint(self, sub: str, export_id: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=export_prefix(sub, export_id) + CHECKPOINT)

    # ------------------------------------------------------------------ downloading
    def download_url(self, key: str, filename: str, seconds: int) -> str:
        return self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": "application/zip",
            },
            ExpiresIn=seconds,
        )

    # ------------------------------------------------------------------ erasing
    def _keys(self, prefix: str) -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            yield from (item["Key"] for item in page.get("Contents", []))

    def _uploads(self, prefix: str) -> Iterator[tuple[str, str]]:
        for page in self.s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
            yield from ((u["Key"], u["UploadId"]) for u in page.get("Uploads", []))

    def erase(self, prefix: str) -> None:
        """Abort every unfinished upload and delete every object under `prefix`."""
        for key, upload_id in list(self._uploads(prefix)):
            try:
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except ClientError as exc:
                if _code(exc) != "NoSuchUpload":
                    raise
        pending = sorted(set(self._keys(prefix)))
        while pending:
            batch, pending = pending[:MAX_DELETE], pending[MAX_DELETE:]
            response = self.s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )
            if errors := response.get("Errors"):
                raise RuntimeError(f"S3 did not delete {len(errors)} object(s): {errors[0].get('Code')}")

    def erase_account(self, sub: str) -> None:
        self.erase(account_prefix(sub))

    def erase_export(self, sub: str, export_id: str) -> None:
        self.erase(export_prefix(sub, export_id))
