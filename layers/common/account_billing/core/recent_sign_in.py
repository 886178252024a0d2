"""Recent sign-in for dangerous actions (GitHub's "sudo mode"; OIDC's `max_age`): deleting the
account, changing the User ID or the primary email and removing a card need a token whose
`auth_time` is at most `RECENT_SIGN_IN_MINUTES` old. Otherwise the answer is 401 with the
`max_age` to ask the identity provider for, in the problem and in an RFC 9470 step-up challenge."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import Field

from account_billing.core.api import caller_of
from account_billing.core.clock import utc_now
from account_billing.core.errors import ServiceError
from account_billing.core.identity import Caller
from account_billing.core.problems import PROBLEM_JSON, Problem
from account_billing.core.settings import get_settings

# A token's `auth_time` may run ahead of this service's clock by this much (clock skew).
ALLOWED_SKEW_SECONDS = 60


class ReauthenticationRequired(ServiceError):
    status = 401
    kind = "reauthentication-required"
    title = "Sign in again to do this"

    def __init__(self, max_age: int) -> None:
        super().__init__(
            f"This action needs a sign-in at most {max_age} seconds old: sign in again "
            f"(ask the identity provider with max_age={max_age}) and retry.",
            max_age=max_age,
        )
        self.max_age = max_age

    @property
    def headers(self) -> dict[str, str]:
        return {
            "WWW-Authenticate": 'Bearer error="insufficient_user_authentication", '
            f'error_description="A more recent sign-in is required", max_age={self.max_age}'
        }


def signed_in_recently(auth_time: int | None, now: datetime, max_age: int) -> bool:
    """Whether a sign-in at `auth_time` (seconds since the epoch) is at most `max_age` seconds
    old at `now`; one without a time is not."""
    if auth_time is None:
        return False
    age = now.timestamp() - auth_time
    return -ALLOWED_SKEW_SECONDS <= age <= max_age


def require_recent_sign_in(caller: Caller, now: datetime, max_age: int) -> Caller:
    """`caller`, if it signed in at most `max_age` seconds before `now`; `ReauthenticationRequired`
    otherwise."""
    if not signed_in_recently(caller.auth_time, now, max_age):
        raise ReauthenticationRequired(max_age)
    return caller


class ReauthenticationProblem(Problem):
    max_age: int | None = Field(
        default=None,
        description="With type urn:account-billing:problem:reauthentication-required: the oldest sign-in, "
        "in seconds, this action accepts (send it as the OpenID Connect max_age parameter when signing in again)",
        examples=[600],
    )


def documented(responses: dict[int, Any]) -> dict[int, Any]:
    """A dangerous route's OpenAPI responses: its 401 also says a recent sign-in is required."""
    documented = copy.deepcopy(responses)
    unauthorized = documented[401]
    unauthorized["description"] = (
        unauthorized["description"] + "; or the sign-in is too old for this action "
        "(type urn:account-billing:problem:reauthentication-required, with the max_age to request)"
    )
    unauthorized["content"][PROBLEM_JSON] = {"model": ReauthenticationProblem}
    unauthorized["headers"]["WWW-Authenticate"]["description"] = (
        'Bearer; for a too old sign-in, an RFC 9470 challenge: error="insufficient_user_authentication", max_age=...'
    )
    return documented


def recently_signed_in(app: APIGatewayHttpResolver) -> Caller:
    """The caller of a dangerous action (`core.api.caller_of`), if its sign-in is recent enough."""
    max_age = get_settings().recent_sign_in_minutes * 60
    return require_recent_sign_in(caller_of(app), utc_now(), max_age)
