"""What callers send to the account routes and what they see of accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, Strict, StringConstraints

from account_billing.accounts.countries import check_country
from account_billing.accounts.user_ids import MAX_LENGTH, MIN_LENGTH, check_user_id
from account_billing.core.fields import Text100, Text280
from account_billing.core.models import LAZY, with_examples

UserId = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=MIN_LENGTH, max_length=MAX_LENGTH),
    AfterValidator(check_user_id),
    Field(
        description=(
            f"{MIN_LENGTH} to {MAX_LENGTH} letters and digits in groups joined by single hyphens "
            "or underscores; not case-sensitive"
        ),
        examples=["ada_lovelace"],
    ),
]


Visibility = Literal["public", "private"]

Country = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=2, max_length=2),
    AfterValidator(check_country),
    Field(description="ISO 3166-1 alpha-2 code", examples=["GB"]),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ProfileFields(_Request):
    """The editable profile. Every field is optional; null (or an empty string) clears it."""

    first_name: Text100 = None
    last_name: Text100 = None
    company: Text100 = None
    job_title: Text100 = None
    job_role: Text100 = None
    location: Text100 = None
    bio: Text280 = None
    country: Country | None = None
    website: Annotated[HttpUrl, Field(max_length=2048)] | None = None


class CreateAccountRequest(ProfileFields):
    """A new account: the User ID is required, the profile fields are optional."""

    model_config = with_examples(
        {"user_id": "ada_lovelace", "first_name": "Ada", "last_name": "Lovelace", "country": "GB"}
    )

    user_id: UserId
    visibility: Visibility = "private"


class UpdateProfileRequest(ProfileFields):
    """A partial update: only the fields present change (JSON merge-patch semantics)."""

    model_config = with_examples(
        {"job_title": "Analyst", "location": "London", "website": "https://example.com/ada", "company": None}
    )


class ChangeUserIdRequest(_Request):
    model_config = with_examples({"user_id": "ada-1815"})

    user_id: UserId


class SetVisibilityRequest(_Request):
    model_config = with_examples({"visibility": "public"})

    visibility: Visibility


class DeleteAccountRequest(_Request):
    """Deletion repeats the account's current User ID (any case) as confirmation."""

    model_config = with_examples({"confirm_user_id": "ada_lovelace"})

    confirm_user_id: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=64)]


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

    model_config = with_examples(
        {
            "user_id": "ada_lovelace",
            "profile": {
                "first_name": "Ada",
                "last_name": "Lovelace",
                "company": None,
                "job_title": "Analyst",
                "job_role": None,
                "location": "London",
                "bio": None,
                "country": "GB",
                "website": None,
            },
            "visibility": "public",
            "avatar": {
                "status": "ready",
                "url": "https://avatars.example.com/avatars/3f2a/9c1e.png",
                "thumbnail_url": "https://avatars.example.com/avatars/3f2a/9c1e-thumb.png",
                "initials": "AL",
                "rejection_reason": None,
            },
            "primary_email": {"address": "ada@example.com", "verified": True},
            "status": "active",
            "created_at": "2026-11-02T09:30:00Z",
            "updated_at": "2026-11-20T14:05:00Z",
            "version": 7,
            "plan": {"key": "developer", "name": "Developer", "spending_limit": 10000},
        }
    )

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

    model_config = with_examples(
        {
            "user_id": "ada_lovelace",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company": None,
            "job_title": "Analyst",
            "location": "London",
            "bio": None,
            "country": "GB",
            "website": None,
            "avatar": {
                "status": "ready",
                "url": "https://avatars.example.com/avatars/3f2a/9c1e.png",
                "thumbnail_url": "https://avatars.example.com/avatars/3f2a/9c1e-thumb.png",
                "initials": "AL",
                "rejection_reason": None,
            },
            "member_since": "2026-11-02T09:30:00Z",
        }
    )

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
    model_config = with_examples({"user_id": "ada-1815", "previous_user_id": "ada_lovelace", "redirects": False})

    user_id: str
    previous_user_id: str
    redirects: Literal[False] = False
    notice: str = (
        "The previous User ID is free for anyone to claim at once. Nothing redirects from it: "
        "URLs and API references that use it stop working."
    )
