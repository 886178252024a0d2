"""What callers send to the avatar routes and what they see of avatar uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from account_billing.core.models import LAZY


class AvatarUploadRequest(BaseModel):
    """Asks for a form to upload an avatar of this type (the browser's `File.type`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    content_type: Literal["image/jpeg", "image/png"] = Field(
        description="The image's type; the upload must be sent with exactly this Content-Type"
    )


class AvatarUpload(BaseModel):
    """A presigned POST: send a `multipart/form-data` POST to `url` with every `fields` entry
    and then the image as the `file` field (last). The avatar shows as `pending` until the
    upload is checked, then `ready` or `rejected`."""

    model_config = LAZY

    upload_id: str = Field(description="Names this upload; later uploads win over earlier ones")
    url: str = Field(description="Where to POST the form")
    method: Literal["POST"] = "POST"
    enctype: Literal["multipart/form-data"] = "multipart/form-data"
    fields: dict[str, str] = Field(description="Form fields to send as they are, before the file")
    file_field: Literal["file"] = "file"
    content_type: Literal["image/jpeg", "image/png"]
    max_bytes: int = Field(description="The largest file S3 accepts")
    expires_at: datetime = Field(description="The form must be posted before this time")
