"""Request models: bounds, normalization, unknown fields."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from account_billing.accounts.models import CreateAccountRequest, ProfileFields, UpdateProfileRequest
from account_billing.accounts.records import PROFILE_FIELDS


def error_locations(exc: ValidationError) -> set[str]:
    return {".".join(str(part) for part in error["loc"]) for error in exc.errors()}


def test_fields_are_trimmed_normalized_and_empty_means_cleared() -> None:
    request = UpdateProfileRequest.model_validate({"first_name": "  Jose\u0301 ", "company": "   ", "bio": None})
    assert request.first_name == "José"
    assert request.company is None
    assert request.model_fields_set == {"first_name", "company", "bio"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"first_name": "x" * 101}, "first_name"),
        ({"bio": "x" * 281}, "bio"),
        ({"first_name": 12}, "first_name"),
        ({"first_name": ["Ada"]}, "first_name"),
        ({"country": "XX"}, "country"),
        ({"country": "GBR"}, "country"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "ftp://example.com"}, "website"),
        ({"job_title": "a\u202eb"}, "job_title"),
        ({"first_name": "Ad\u200bmin"}, "first_name"),
        ({"last_name": "\u2060"}, "last_name"),
        ({"bio": "hidden\u200dtext"}, "bio"),
        ({"nickname": "ada"}, "nickname"),
        ({"version": 3}, "version"),
    ],
)
def test_bad_profile_input_names_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        UpdateProfileRequest.model_validate(payload)
    assert field in error_locations(exc.value)


def test_country_is_uppercased_and_website_kept() -> None:
    request = UpdateProfileRequest.model_validate({"country": "gb", "website": "https://example.com/ada"})
    assert request.country == "GB"
    assert str(request.website) == "https://example.com/ada"


def test_a_new_account_needs_a_valid_user_id() -> None:
    with pytest.raises(ValidationError) as exc:
        CreateAccountRequest.model_validate({"first_name": "Ada"})
    assert "user_id" in error_locations(exc.value)
    with pytest.raises(ValidationError):
        CreateAccountRequest.model_validate({"user_id": "root"})
    assert CreateAccountRequest.model_validate({"user_id": "Ada_L"}).visibility == "private"


def test_the_stored_profile_fields_are_the_editable_ones() -> None:
    # records names them itself (the functions that only read accounts do not load the API models)
    assert tuple(ProfileFields.model_fields) == PROFILE_FIELDS
