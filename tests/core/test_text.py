"""Display text and free text by PRECIS (RFC 8264, RFC 8266 nicknames), and initials."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from account_billing.core.text import display_text, free_text, initials


def test_display_text_is_trimmed_nfkc_normalized_and_its_spaces_made_one() -> None:
    # combining accent composed; a no-break space, an ideographic space and a run of spaces
    # each become one space; full-width letters become ordinary ones (RFC 8266's mappings)
    assert display_text("  Jose\u0301\u00a0\u3000 Ｌｏｖｅｌａｃｅ  ") == "José Lovelace"


def test_free_text_is_trimmed_and_nfc_normalized_without_compatibility_mappings() -> None:
    assert free_text("  Jose\u0301 likes ① and x²  ") == "José likes ① and x²"


INVISIBLE_OR_CONTROL = [
    "Ad\u200bmin",  # zero-width space
    "Ad\u200dmin",  # zero-width joiner, where no script needs one
    "Ad\u200cmin",  # zero-width non-joiner
    "soft\u00adhyphen",
    "word\u2060joiner",
    "byte\ufefforder",
    "rtl\u202eoverride",
    "isolate\u2066x",
    "tab\there",
    "new\nline",
    "line\u2028separator",
    "nul\x00",
    "bell\x07",
    "private\ue000use",
    "unassigned\U000e0fff",
]


@pytest.mark.parametrize("text", INVISIBLE_OR_CONTROL)
def test_invisible_format_control_and_private_characters_are_refused_in_display_text(text: str) -> None:
    # (found: the hand-made blacklist let zero-width and other format characters through)
    with pytest.raises(ValueError, match=r"may not hold \(U\+[0-9A-F]{4,6}\)"):
        display_text(text)


@pytest.mark.parametrize("text", INVISIBLE_OR_CONTROL)
def test_the_same_characters_are_refused_in_free_text(text: str) -> None:
    with pytest.raises(ValueError, match="may not hold"):
        free_text(text)


@pytest.mark.parametrize("text", ["Zoë Ñúñez", "山田 太郎", "Ελένη", "محمد", "👩 ✨", "O'Brien-Smith, Jr."])
def test_ordinary_text_of_any_script_is_kept(text: str) -> None:
    assert display_text(text) == text
    assert free_text(text) == text


def test_a_joiner_is_kept_where_its_script_needs_one() -> None:
    # RFC 5892 A.2: a ZWJ after a virama (Devanagari half forms)
    assert display_text("क्\u200dष") == "क्\u200dष"


def test_emoji_joined_into_one_glyph_are_refused_as_the_standard_refuses_them() -> None:
    # the joiner outside a virama's context is an invisible character to PRECIS
    with pytest.raises(ValueError, match="U\\+200D"):
        display_text("👩\u200d💻")


@pytest.mark.parametrize("text", ["", "   ", "\u3000", "\u00a0\u00a0"])
def test_only_spaces_is_empty(text: str) -> None:
    assert display_text(text) == ""
    assert free_text(text) == ""


def test_precis_is_loaded_when_text_is_first_checked_not_at_import() -> None:
    # its import costs ~25 ms of a cold start that may never check any text
    script = (
        "import sys; import account_billing.core.text as t; loaded = 'precis_i18n' in sys.modules; "
        "t.display_text('Ada'); print(loaded, 'precis_i18n' in sys.modules)"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    found = subprocess.run(  # noqa: S603 -- this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=environment
    )
    assert found.stdout.split() == ["False", "True"]


@pytest.mark.parametrize(
    ("names", "expected"),
    [(("ada", "lovelace"), "AL"), (("Ada", None), "A"), ((None, "  "), ""), (("émile", "zola"), "ÉZ")],
)
def test_initials_take_the_first_letter_of_each_name(names: tuple[str | None, ...], expected: str) -> None:
    assert initials(*names) == expected
