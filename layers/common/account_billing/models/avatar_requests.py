"""What callers send to the avatar routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AvatarUploadRequest(BaseModel):
    """Asks for a form to upload an avatar of this type (the browser's `File.type`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    content_type: Literal["image/jpeg", "image/png"] = Field(
        description="The image's type; the upload must be sent with exactly this Content-Type"
    )
