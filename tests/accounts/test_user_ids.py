"""User ID rules: shape, length, reserved names, case-insensitive keys."""

from __future__ import annotations

import pytest

from account_billing.accounts.user_ids import MAX_LENGTH, check_user_id, is_valid_user_id, user_id_key


@pytest.mark.parametrize(
    "user_id",
    ["ada", "Ada_Lovelace", "ada-lovelace", "a1-b2_c3", "ABC123", "x" * MAX_LENGTH, "a-b-c", "9lives"],
)
def test_valid_user_ids_are_returned_as_typed(user_id: str) -> None:
    assert check_user_id(user_id) == user_id


@pytest.mark.parametrize(
    ("user_id", "reason"),
    [
        ("ab", "3 to 39"),
        ("x" * (MAX_LENGTH + 1), "3 to 39"),
        ("-ada", "letters and digits"),
        ("ada-", "letters and digits"),
        ("ada--lovelace", "letters and digits"),
        ("ada_-lovelace", "letters and digits"),
        ("ada lovelace", "letters and digits"),
        ("ada.lovelace", "letters and digits"),
        ("adá", "letters and digits"),  # ASCII only: no look-alike letters
        ("аda", "letters and digits"),  # Cyrillic а
        ("ada\n", "letters and digits"),
        ("admin", "reserved"),
        ("Admin", "reserved"),
        ("ad-min", "reserved"),
        ("SUP_PORT", "reserved"),
        ("api", "reserved"),
    ],
)
def test_invalid_user_ids_are_refused_with_a_reason(user_id: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_user_id(user_id)
    assert not is_valid_user_id(user_id)


def test_the_uniqueness_key_ignores_case() -> None:
    assert user_id_key("Ada_Lovelace") == user_id_key("ADA_LOVELACE") == "ada_lovelace"
