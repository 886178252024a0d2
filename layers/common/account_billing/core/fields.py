"""Field types shared by request models: trimmed, NFC-normalized, bounded text."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Strict, StringConstraints

from account_billing.core.text import normalize_text


def normalized(value: Any) -> Any:
    """A before-validator: text normalized (`core.text`); non-strings pass through untouched, so
    the strict str check reports the wrong type."""
    return normalize_text(value) if isinstance(value, str) else value


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


# Free text, bounded after trimming and normalization; an empty string clears the field (null).
# Before-validators run last-listed first: normalize, then turn "" into None.
Text100 = Annotated[
    Annotated[str, Strict(), StringConstraints(min_length=1, max_length=100)] | None,
    BeforeValidator(_empty_to_none),
    BeforeValidator(normalized),
]
Text280 = Annotated[
    Annotated[str, Strict(), StringConstraints(min_length=1, max_length=280)] | None,
    BeforeValidator(_empty_to_none),
    BeforeValidator(normalized),
]
