"""Pure HTTP helpers: entity tags for optimistic concurrency."""

from __future__ import annotations


def etag_for(version: int) -> str:
    """The strong entity tag of an account at `version`."""
    return f'"v{version}"'


def versions_matching(if_match: str | None) -> frozenset[int] | None:
    """The account versions an `If-Match` header accepts; None when any version will do.

    Absent or `*`: None. Otherwise the versions named by the strong tags in the list; weak tags
    never match (RFC 9110 requires the strong comparison for `If-Match`), so a header naming
    none of our tags yields an empty set, which no account satisfies.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    versions = set()
    for tag in (part.strip() for part in if_match.split(",")):
        if tag.startswith('"v') and tag.endswith('"') and tag[2:-1].isdigit():
            versions.add(int(tag[2:-1]))
    return frozenset(versions)
