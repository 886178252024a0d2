"""Normalization of free text and initials."""

from __future__ import annotations

import pytest

from account_billing.core.text import initials, normalize_text


def test_text_is_trimmed_and_nfc_normalized() -> None:
    decomposed = "  Jose\u0301  "  # e + combining acute accent
    assert normalize_text(decomposed) == "Jos\u00e9"


@pytest.mark.parametrize(
    "text",
    ["tab\there", "new\nline", "nul\x00", "bell\x07", "rtl\u202eoverride", "isolate\u2066x", "private\ue000use"],
)
def test_control_bidi_and_private_characters_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="forbidden character"):
        normalize_text(text)


def test_ordinary_unicode_is_kept() -> None:
    assert normalize_text("Zoë Ñúñez 山田 👩‍💻") == "Zoë Ñúñez 山田 👩‍💻"


@pytest.mark.parametrize(
    ("names", "expected"),
    [(("ada", "lovelace"), "AL"), (("Ada", None), "A"), ((None, "  "), ""), (("émile", "zola"), "ÉZ")],
)
def test_initials_take_the_first_letter_of_each_name(names: tuple[str | None, ...], expected: str) -> None:
    assert initials(*names) == expected
