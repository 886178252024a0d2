"""What callers see of accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from . import LAZY


class _Response(BaseModel):
    model_config = LAZY


class Profile(_Response):
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    job_title: str | None = None
    job_role: str | None = None
    location: str | None = None
    bio: str | None = None
    country: str | None = None
    website: str | None = None


class Avatar(_Response):
    """The avatar's state. With no ready image, clients show `initials` instead."""

    status: Literal["none", "pending", "ready", "rejected"] = "none"
    url: str | None = None
    thumbnail_url: str | None = None
    initials: str = Field(description="One or two letters to show when there is no image")
    rejection_reason: str | None = None


class EmailAddress(_Response):
    address: str
    verified: bool


class PlanSummary(_Response):
    """The plan in effect (its subscription: GET /v1/billing/subscription)."""

    key: Literal["community", "developer", "essential", "professional"]
    name: str
    spending_limit: int | None = Field(description="Monthly usage limit in cents; null: no usage")


class AccountView(_Response):
    """The caller's whole account, as the Settings → Account page shows it."""

    user_id: str
    profile: Profile
    visibility: Literal["public", "private"]
    avatar: Avatar
    primary_email: EmailAddress | None
    status: Literal["active", "deleting"]
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Bumped by every change; the ETag names it")
    plan: PlanSummary


class PublicProfileView(_Response):
    """What anyone may see of a public account."""

    user_id: str
    first_name: str | None
    last_name: str | None
    company: str | None
    job_title: str | None
    location: str | None
    bio: str | None
    country: str | None
    website: str | None
    avatar: Avatar
    member_since: datetime


class UserIdChanged(_Response):
    user_id: str
    previous_user_id: str
    redirects: Literal[False] = False
    notice: str = (
        "The previous User ID is free for anyone to claim at once. Nothing redirects from it: "
        "URLs and API references that use it stop working."
    )
