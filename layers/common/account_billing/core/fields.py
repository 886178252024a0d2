"""Field types shared by request models: display text and free text by PRECIS (`core.text`),
bounded after it is normalized."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Strict, StringConstraints

from account_billing.core.text import display_text, free_text


def displayed(value: Any) -> Any:
    """A before-validator: display text (names and the like) as PRECIS's Nickname profile
    enforces it (`core.text`); non-strings pass through untouched, so the strict str check
    reports the wrong type."""
    return display_text(value) if isinstance(value, str) else value


def normalized(value: Any) -> Any:
    """A before-validator: free text normalized and checked (`core.text`); non-strings pass
    through untouched."""
    return free_text(value) if isinstance(value, str) else value


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


# Display text (a name, a job title...) and free text (a bio), bounded after normalization; an
# empty string (or only spaces) clears the field (null). Before-validators run last-listed
# first: normalize, then turn "" into None.
Text100 = Annotated[
    Annotated[str, Strict(), StringConstraints(min_length=1, max_length=100)] | None,
    BeforeValidator(_empty_to_none),
    BeforeValidator(displayed),
]
Text280 = Annotated[
    Annotated[str, Strict(), StringConstraints(min_length=1, max_length=280)] | None,
    BeforeValidator(_empty_to_none),
    BeforeValidator(normalized),
]
