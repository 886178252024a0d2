"""What callers see of their exports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from account_billing.core.models import LAZY, with_examples


class ExportProgress(BaseModel):
    model_config = LAZY

    sections_done: list[str] = Field(description="Sections written so far, in the archive's order")
    section: str | None = Field(default=None, description="The section being written")
    items: int = Field(description="Records and files written so far")


class ExportView(BaseModel):
    model_config = with_examples(
        {
            "id": "exp_5f2c9a1e7b3d4c60",
            "status": "ready",
            "requested_at": "2026-12-01T09:30:00Z",
            "progress": {"sections_done": ["profile", "emails", "cards", "invoices", "activity"], "items": 412},
            "ready_at": "2026-12-01T09:31:12Z",
            "available_until": "2026-12-08T09:31:12Z",
            "size_bytes": 1843200,
            "statements_missing": 0,
            "download_url": "https://exports.example.com/exports/archive.zip?X-Amz-Expires=900",
            "download_url_expires_at": "2026-12-01T09:46:12Z",
        }
    )

    id: str
    status: Literal["queued", "running", "ready", "failed", "expired"] = Field(
        description="queued, running, ready (download it), failed, or expired (its archive is deleted)"
    )
    requested_at: datetime
    progress: ExportProgress
    ready_at: datetime | None = None
    available_until: datetime | None = Field(default=None, description="When the archive is deleted")
    size_bytes: int | None = None
    statements_missing: int = Field(
        default=0, description="Invoice statements that could not be fetched (the archive's manifest lists them)"
    )
    download_url: str | None = Field(
        default=None, description="Once ready: a short-lived link to the archive (a ZIP); ask again for a new one"
    )
    download_url_expires_at: datetime | None = None
    failure: str | None = None
