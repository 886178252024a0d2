"""Pure HTTP helpers: entity tags for optimistic concurrency, and the JSON of request bodies."""

from __future__ import annotations

import json
import re
from typing import Any

from account_billing.core.errors import InvalidRequest, PreconditionFailed

# Our entity tags: `"v<version>"`, the version in plain decimal (no sign, no leading zero, no
# other digits than 0-9), at most 18 digits (DynamoDB numbers hold 38; versions count writes).
_ENTITY_TAG = re.compile(r'"v(0|[1-9][0-9]{0,17})"')
# More tags than a client could have read from us; also under DynamoDB's 100 operands of IN.
MAX_ENTITY_TAGS = 20


def etag_for(version: int) -> str:
    """The strong entity tag of an account at `version`."""
    return f'"v{version}"'


def versions_matching(if_match: str | None) -> frozenset[int] | None:
    """The account versions an `If-Match` header accepts; None when any version will do.

    Absent or `*`: None. Otherwise the versions named by our strong tags in the list, compared
    as strings (RFC 9110 requires the strong comparison for `If-Match`): weak tags (`W/"v1"`),
    other spellings (`"v01"`, `"v²"`) and anything else never match. A header naming none of
    our tags matches no version of the account: `PreconditionFailed` (412). One naming more
    than `MAX_ENTITY_TAGS` is refused as invalid (422).
    """
    if if_match is None or if_match.strip() == "*":
        return None
    tags = [tag.strip() for tag in if_match.split(",")]
    if len(tags) > MAX_ENTITY_TAGS:
        raise InvalidRequest(
            f"If-Match names more than {MAX_ENTITY_TAGS} entity tags.",
            errors=[
                {
                    "detail": f"At most {MAX_ENTITY_TAGS} entity tags",
                    "code": "too_many_entity_tags",
                    "parameter": "if-match",
                    "in": "header",
                }
            ],
        )
    versions = frozenset(int(found[1]) for tag in tags if (found := _ENTITY_TAG.fullmatch(tag)))
    if not versions:
        raise PreconditionFailed("If-Match names no version of the account: read it again for its ETag.")
    return versions


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def parse_json(text: str) -> Any:
    """A request body's JSON. Whatever is not plain JSON (RFC 8259) is a `JSONDecodeError`, as
    malformed JSON is (a 400, never a 500): `NaN` and `Infinity`, nesting deeper than Python
    recurses, integers longer than Python converts (4,300 digits)."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError:
        raise
    except RecursionError as exc:
        raise json.JSONDecodeError("JSON nested too deeply", text[:64], 0) from exc
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), text[:64], 0) from exc
