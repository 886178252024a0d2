"""The export settings, parsed once from the environment the template gives the functions that
start, build, show or erase exports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from account_billing.core.settings import MissingSetting
from account_billing.core.wiring import per_container

MIB = 1024 * 1024


class ExportSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    # The private bucket of the archives (its lifecycle expires them after `export_retention_days`).
    export_bucket: str | None = Field(default=None, min_length=3)
    # The queue the export function reads (and continues an export through).
    export_queue_url: str | None = None
    # Exports one account may start per day (UTC); one runs at a time.
    exports_per_day: int = Field(default=3, ge=1, le=100)
    # Bytes of archive per uploaded part (S3 takes parts of at least 5 MiB but the last).
    export_part_size: int = Field(default=8 * MIB, ge=5 * MIB, le=512 * MIB)
    # How long a download URL works.
    export_link_minutes: int = Field(default=15, ge=1, le=60)
    # How long an archive is kept (the bucket's lifecycle rule says the same).
    export_retention_days: int = Field(default=7, ge=1, le=30)

    def bucket(self) -> str:
        if not self.export_bucket:
            raise MissingSetting("EXPORT_BUCKET")
        return self.export_bucket

    def queue_url(self) -> str:
        if not self.export_queue_url:
            raise MissingSetting("EXPORT_QUEUE_URL")
        return self.export_queue_url


@per_container
def export_settings() -> ExportSettings:
    import os  # noqa: PLC0415 (read when first needed)

    return ExportSettings.model_validate({name.lower(): value for name, value in os.environ.items()})
