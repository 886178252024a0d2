"""What callers send to the account routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, Strict, StringConstraints

from ..countries import check_country
from .fields import Text100, Text280, UserId

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

    user_id: UserId
    visibility: Visibility = "private"


class UpdateProfileRequest(ProfileFields):
    """A partial update: only the fields present change (JSON merge-patch semantics)."""


class ChangeUserIdRequest(_Request):
    user_id: UserId


class SetVisibilityRequest(_Request):
    visibility: Visibility


class DeleteAccountRequest(_Request):
    """Deletion repeats the account's current User ID (any case) as confirmation."""

    confirm_user_id: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=64)]
