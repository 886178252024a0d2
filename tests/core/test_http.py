"""Entity tags and If-Match."""

from __future__ import annotations

import pytest

from account_billing.core.http import etag_for, versions_matching


def test_etag_names_the_version() -> None:
    assert etag_for(7) == '"v7"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("*", None),
        ('"v3"', frozenset({3})),
        ('"v3", "v4"', frozenset({3, 4})),
        ('W/"v3"', frozenset()),  # weak tags never match If-Match
        ('"something-else"', frozenset()),
        ("v3", frozenset()),
    ],
)
def test_if_match_yields_the_acceptable_versions(header: str | None, expected: frozenset[int] | None) -> None:
    assert versions_matching(header) == expected


def test_round_trip() -> None:
    assert versions_matching(etag_for(12)) == frozenset({12})
