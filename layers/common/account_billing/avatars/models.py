"""What callers send to the avatar routes and what they see of avatar uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from account_billing.core.models import with_examples


class AvatarUploadRequest(BaseModel):
    """Asks for a form to upload an avatar of this type (the browser's `File.type`)."""

    model_config = with_examples({"content_type": "image/png"}, extra="forbid", frozen=True)

    content_type: Literal["image/jpeg", "image/png"] = Field(
        description="The image's type; the upload must be sent with exactly this Content-Type"
    )


class AvatarUpload(BaseModel):
    """A presigned POST: send a `multipart/form-data` POST to `url` with every `fields` entry
    and then the image as the `file` field (last). The avatar shows as `pending` until the
    upload is checked, then `ready` or `rejected`."""

    model_config = with_examples(
        {
            "upload_id": "01JD7Q5W3C9NXK2M4T6V8YB0R",
            "url": "https://account-billing-prod-avatars.s3.eu-west-1.amazonaws.com/",
            "method": "POST",
            "enctype": "multipart/form-data",
            "fields": {
                "key": "uploads/3f2a9c1e/01JD7Q5W3C9NXK2M4T6V8YB0R",
                "Content-Type": "image/png",
                "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "x-amz-credential": "ASIAEXAMPLE/20261120/eu-west-1/s3/aws4_request",
                "x-amz-date": "20261120T140500Z",
                "x-amz-security-token": "IQoJb3JpZ2luX2VjEXAMPLE",
                "policy": "eyJleHBpcmF0aW9uIjogIjIwMjYtMTEtMjBUMTQ6MTA6MDBaIn0=",
                "x-amz-signature": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
            },
            "file_field": "file",
            "content_type": "image/png",
            "max_bytes": 20971520,
            "expires_at": "2026-11-20T14:10:00Z",
        }
    )

    upload_id: str = Field(description="Names this upload; later uploads win over earlier ones")
    url: str = Field(description="Where to POST the form")
    method: Literal["POST"] = "POST"
    enctype: Literal["multipart/form-data"] = "multipart/form-data"
    fields: dict[str, str] = Field(description="Form fields to send as they are, before the file")
    file_field: Literal["file"] = "file"
    content_type: Literal["image/jpeg", "image/png"]
    max_bytes: int = Field(description="The largest file S3 accepts")
    expires_at: datetime = Field(description="The form must be posted before this time")
