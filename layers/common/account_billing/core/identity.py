"""The caller, taken from the JWT claims that API Gateway's authorizer has already verified."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from account_billing.core.errors import Unauthenticated
from account_billing.core.origin import Origin


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller. `sub` is the immutable key of its account."""

    sub: str
    email: str | None = None
    email_verified: bool = False
    # When the user last signed in (the token's `auth_time`, seconds since the epoch), if it says.
    auth_time: int | None = None
    # The request the caller made (user actions only): see `core.origin`.
    origin: Origin | None = None


def _truthy(value: Any) -> bool:
    # HTTP API passes every claim as a string ("true"); other issuers send real booleans.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _epoch(value: Any) -> int | None:
    # A NumericDate claim: a number, or (through HTTP API's authorizer) its decimal text.
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12:
        return int(value.strip())
    return None


def caller_from_claims(claims: dict[str, Any] | None, origin: Origin | None = None) -> Caller:
    """Build the caller from verified JWT claims; `Unauthenticated` if there is no subject."""
    sub = (claims or {}).get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 255:
        raise Unauthenticated("The request carries no verified identity.")
    email = claims.get("email") if claims else None
    return Caller(
        sub=sub,
        email=email if isinstance(email, str) and email else None,
        email_verified=_truthy(claims.get("email_verified")) if claims else False,
        auth_time=_epoch(claims.get("auth_time")) if claims else None,
        origin=origin,
    )
