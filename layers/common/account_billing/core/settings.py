"""The service's configuration, parsed once from the environment the template defines."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from account_billing.core.wiring import per_container


class MissingSetting(RuntimeError):
    """The function's environment lacks variables it needs (a template mistake)."""

    def __init__(self, *names: str) -> None:
        super().__init__(f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} not set")


def required[T](value: T | None, name: str) -> T:
    """A setting a function cannot do without; `MissingSetting` (naming it) when absent."""
    if value is None or value == "":
        raise MissingSetting(name)
    return value


class Settings(BaseModel):
    """Environment of a function. Names come from `template.yaml` (`!Ref`), never from code.

    Field names are the environment variables, lowercased. (pydantic-settings would do the
    same, at the price of about 30 ms more on every cold start.)
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: str = Field(min_length=1)
    table_name: str = Field(min_length=3)
    # How long a deleted account's tombstone keeps late events from re-creating it.
    tombstone_ttl_days: int = Field(default=30, ge=1, le=365)
    # Dangerous actions (deleting the account, changing the User ID or the primary email,
    # removing a card) need a sign-in at most this many minutes old (the token's `auth_time`).
    recent_sign_in_minutes: int = Field(default=10, ge=1, le=24 * 60)
    # How long the activity log keeps an entry (DynamoDB's TTL removes it then).
    activity_retention_days: int = Field(default=400, ge=1, le=3650)
    # Sender of the service's emails (an address of an SES-verified identity).
    email_from: str | None = None
    # The SES configuration set the emails are sent through (their events go to CloudWatch).
    email_configuration_set: str | None = None
    # The web app, for links in emails (e.g. the verification link).
    web_app_url: str = "http://localhost:3000"
    # The EventBridge bus security notices are published to (functions that make noticed changes).
    security_notice_bus: str | None = None
    # The EventBridge bus of usage events, where `SpendingLimitReached` is published too.
    event_bus_name: str | None = None
    # The avatar bucket, and the base URL its published avatars are served from (CloudFront).
    avatar_bucket: str | None = Field(default=None, min_length=3)
    avatar_base_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    # How the S3 client addresses buckets: AWS's virtual-hosted endpoints, or an emulator's
    # own endpoint path-style (the local stack sets `path`).
    s3_addressing_style: Literal["virtual", "path"] = "virtual"


@per_container
def get_settings() -> Settings:
    """The settings of this container, read when first needed (never at import time)."""
    return Settings.model_validate({name.lower(): value for name, value in os.environ.items()})
