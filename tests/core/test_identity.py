"""The caller from JWT claims."""

from __future__ import annotations

import pytest

from account_billing.core.errors import Unauthenticated
from account_billing.core.identity import caller_from_claims


def test_claims_as_api_gateway_passes_them() -> None:
    caller = caller_from_claims({"sub": "abc", "email": "a@example.com", "email_verified": "true"})
    assert (caller.sub, caller.email, caller.email_verified) == ("abc", "a@example.com", True)


@pytest.mark.parametrize("flag", ["false", False, None, "yes", 1])
def test_email_counts_as_verified_only_when_the_claim_says_true(flag: object) -> None:
    assert not caller_from_claims({"sub": "abc", "email": "a@example.com", "email_verified": flag}).email_verified


@pytest.mark.parametrize("claims", [None, {}, {"sub": ""}, {"sub": "   "}, {"sub": 42}, {"sub": "x" * 256}])
def test_no_subject_is_unauthenticated(claims: dict[str, object] | None) -> None:
    with pytest.raises(Unauthenticated):
        caller_from_claims(claims)
