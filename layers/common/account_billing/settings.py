"""The service's configuration, parsed once from the environment the template defines."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .wiring import per_container


class Settings(BaseSettings):
    """Environment of a function. Names come from `template.yaml` (`!Ref`), never from code."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    stage: str = Field(min_length=1)
    table_name: str = Field(min_length=3)
    service_name: str = Field(default="account-billing", alias="POWERTOOLS_SERVICE_NAME")
    # How long a deleted account's tombstone keeps late events from re-creating it.
    tombstone_ttl_days: int = Field(default=30, ge=1, le=365)


@per_container
def get_settings() -> Settings:
    """The settings of this container, read when first needed (never at import time)."""
    return Settings()  # values come from the environment
