"""Entity tags and If-Match; the JSON of request bodies."""

from __future__ import annotations

import json

import pytest

from account_billing.core.errors import InvalidRequest, PreconditionFailed
from account_billing.core.http import MAX_ENTITY_TAGS, etag_for, parse_json, versions_matching


def test_etag_names_the_version() -> None:
    assert etag_for(7) == '"v7"'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("*", None),
        ('"v3"', frozenset({3})),
        ('"v3", "v4"', frozenset({3, 4})),
        ('W/"v3", "v4"', frozenset({4})),  # weak tags never match If-Match
        ('"v0"', frozenset({0})),
        ('"v' + "9" * 18 + '"', frozenset({10**18 - 1})),
    ],
)
def test_if_match_yields_the_acceptable_versions(header: str | None, expected: frozenset[int] | None) -> None:
    assert versions_matching(header) == expected


@pytest.mark.parametrize(
    "header",
    ['W/"v3"', '"something-else"', "v3", "null", "", ",", '"v-1"', '"v²"', '"v٣"', '"v03"', '"v' + "1" * 41 + '"'],
)
def test_if_match_naming_none_of_our_tags_matches_no_version(header: str) -> None:
    with pytest.raises(PreconditionFailed):
        versions_matching(header)


def test_if_match_may_name_a_bounded_number_of_tags() -> None:
    assert len(versions_matching(", ".join(etag_for(n) for n in range(MAX_ENTITY_TAGS))) or ()) == MAX_ENTITY_TAGS
    with pytest.raises(InvalidRequest):
        versions_matching(", ".join(etag_for(n) for n in range(MAX_ENTITY_TAGS + 1)))


def test_round_trip() -> None:
    assert versions_matching(etag_for(12)) == frozenset({12})


def test_json_bodies_parse_as_json() -> None:
    assert parse_json('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, "9" * 5_000, "NaN", "[Infinity]", '{"a": -Infinity}', "{", "\x00"],
)
def test_anything_that_is_not_plain_json_is_a_decode_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        parse_json(text)
