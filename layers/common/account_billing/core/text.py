"""Pure rules for free text that users type: trimming, Unicode normalization, forbidden characters."""

from __future__ import annotations

import unicodedata

# Bidirectional embedding, override and isolate controls: they make text display differently
# from what it contains (spoofing), and a profile field never needs them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Control (Cc), surrogate (Cs), private use (Co) and unassigned (Cn) code points.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})


def normalize_text(value: str) -> str:
    """NFC-normalize and trim `value`; raise `ValueError` if it holds a forbidden character.

    Tabs and newlines are control characters too: single-line fields never contain them.
    """
    text = unicodedata.normalize("NFC", value).strip()
    for char in text:
        if char in _BIDI_CONTROLS or unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise ValueError(f"contains a forbidden character (U+{ord(char):04X})")
    return text


def initials(*names: str | None) -> str:
    """Up to two uppercase initials from the first letter of each non-empty name."""
    letters = [name.strip()[0] for name in names if name and name.strip()]
    return "".join(letters[:2]).upper()
