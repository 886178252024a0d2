"""The caller, taken from the JWT claims that API Gateway's authorizer has already verified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from account_billing.core.errors import Unauthenticated


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller. `sub` is the immutable key of its account."""

    sub: str
    email: str | None = None
    email_verified: bool = False


def _truthy(value: Any) -> bool:
    # HTTP API passes every claim as a string ("true"); other issuers send real booleans.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def caller_from_claims(claims: dict[str, Any] | None) -> Caller:
    """Build the caller from verified JWT claims; `Unauthenticated` if there is no subject."""
    sub = (claims or {}).get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 255:
        raise Unauthenticated("The request carries no verified identity.")
    email = claims.get("email") if claims else None
    return Caller(
        sub=sub,
        email=email if isinstance(email, str) and email else None,
        email_verified=_truthy(claims.get("email_verified")) if claims else False,
    )
