"""User ID rules: shape, length, reserved names, case-insensitive keys."""

from __future__ import annotations

import pytest

from account_billing.accounts.user_ids import (
    MAX_LENGTH,
    TR39_ASCII_CONFUSABLES,
    check_user_id,
    is_valid_user_id,
    skeleton,
    user_id_key,
)


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
        ("adm1n", "looks like a reserved name"),
        ("admln", "looks like a reserved name"),
        ("ADMlN", "looks like a reserved name"),
        ("r00t", "looks like a reserved name"),
        ("rO0t", "looks like a reserved name"),
        ("rne", "looks like a reserved name"),  # me
        ("supp0rt", "looks like a reserved name"),
        ("bi11ing", "looks like a reserved name"),
        ("0ff1cial", "looks like a reserved name"),
        ("nu-11", "looks like a reserved name"),
    ],
)
def test_invalid_user_ids_are_refused_with_a_reason(user_id: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_user_id(user_id)
    assert not is_valid_user_id(user_id)


def test_the_uniqueness_key_ignores_case() -> None:
    assert user_id_key("Ada_Lovelace") == user_id_key("ADA_LOVELACE") == "ada_lovelace"


@pytest.mark.parametrize("user_id", ["ada_lovelace", "alice", "milli", "l1ly", "5upport", "adminx", "jim"])
def test_names_that_only_share_letters_with_a_reserved_one_are_free(user_id: str) -> None:
    # 5/s is no TR39 confusable; the others simply are not a reserved name's skeleton
    assert check_user_id(user_id) == user_id


def test_look_alikes_share_a_skeleton() -> None:
    assert skeleton("admin") == skeleton("ADM1N") == skeleton("ad-mln")
    assert skeleton("me") == skeleton("rn_e") != skeleton("ne")


def test_the_confusables_table_is_tr39s_own_for_ascii_letters_and_digits() -> None:
    # Derived from Unicode's confusables.txt as confusable_homoglyphs ships it: every pair of
    # ASCII letter/digit sequences it lists as confusable, and no other
    from confusable_homoglyphs.confusables import confusables_data  # noqa: PLC0415 - dev-only data

    def plain(text: str) -> str:
        return text.replace("\u200e", "")  # the data marks some sequences left-to-right

    alphanumeric = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    tr39 = {
        frozenset((plain(source), plain(glyph["c"])))
        for source, glyphs in confusables_data.items()
        for glyph in glyphs
        if set(plain(source)) <= alphanumeric and set(plain(glyph["c"])) <= alphanumeric
    }
    assert {pair for pair in tr39 if len(pair) == 2} == {frozenset(pair) for pair in TR39_ASCII_CONFUSABLES}
