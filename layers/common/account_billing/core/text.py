"""Pure rules for text that users type and others see, by the PRECIS framework (RFC 8264), with
the maintained `precis-i18n` implementation of its classes and profiles:

- `display_text` (names, company, job title, location: short, one line, shown to others): the
  Nickname profile of RFC 8266, case preserved. NFKC (so full-width and other compatibility
  forms become their ordinary letters), non-ASCII spaces mapped to a space, leading and
  trailing spaces dropped, inner runs of spaces made one.
- `free_text` (a bio, the reason of a request): NFC and trimmed, then FreeformClass (RFC 8264
  §4.3), the class the Nickname profile is built on, without its mappings.

Both refuse what display text must never carry: controls (tabs and newlines too: single-line
fields never hold them), format and other invisible characters (Unicode's
Default_Ignorable_Code_Point: zero-width space, soft hyphen, bidirectional overrides and
isolates, word joiner...), private-use, surrogate and unassigned code points, and the
zero-width joiners outside the few scripts that need one after a virama (RFC 5892 Appendix A.2:
so emoji joined into one glyph with ZWJ are refused too).

precis-i18n costs about 25 ms to import: it is loaded on the first text checked, never at import
time (a cold start that only reads pays nothing for it).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from precis_i18n.profile import Profile


@cache
def _profile(name: str) -> Profile:
    import precis_i18n  # noqa: PLC0415 - loaded when text is first checked

    return precis_i18n.get_profile(name)


def _enforced(profile: str, value: str) -> str:
    try:
        return str(_profile(profile).enforce(value))
    except UnicodeEncodeError as exc:
        if exc.reason.endswith("/empty"):
            return ""  # nothing but spaces: the field is cleared
        char = exc.object[exc.start] if 0 <= exc.start < len(exc.object) and exc.end - exc.start == 1 else None
        where = f" (U+{ord(char):04X})" if char is not None else ""
        raise ValueError(f"contains a character that display text may not hold{where}") from exc


def display_text(value: str) -> str:
    """`value` as the Nickname profile (RFC 8266) enforces it; `ValueError` if it holds a
    character the profile disallows. Only spaces: the empty string."""
    return _enforced("NicknameCasePreserved", value)


def free_text(value: str) -> str:
    """`value` NFC-normalized and trimmed; `ValueError` if it holds a character PRECIS's
    FreeformClass (RFC 8264) disallows."""
    text = unicodedata.normalize("NFC", value).strip()
    return _enforced("FreeFormClass", text) if text else ""


def initials(*names: str | None) -> str:
    """Up to two uppercase initials from the first letter of each non-empty name."""
    letters = [name.strip()[0] for name in names if name and name.strip()]
    return "".join(letters[:2]).upper()
