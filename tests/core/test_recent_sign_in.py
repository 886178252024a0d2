"""Recent sign-in for dangerous actions: the `auth_time` rule at its edges, and the 401 problem
the four dangerous routes answer to an old sign-in (with nothing changed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from account_billing.core.identity import Caller, caller_from_claims
from account_billing.core.recent_sign_in import ReauthenticationRequired, require_recent_sign_in, signed_in_recently
from functions.emails import app as emails_app
from tests.support import table
from tests.support.events import call, http_event
from tests.support.profile import ProfileClient
from tests.support.sign_in import assert_reauthentication_required, signed_in

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
MAX_AGE = 600


def at(seconds_ago: float) -> int:
    return int((NOW - timedelta(seconds=seconds_ago)).timestamp())


@pytest.mark.parametrize(
    ("auth_time", "recent"),
    [
        pytest.param(at(0), True, id="just now"),
        pytest.param(at(MAX_AGE), True, id="exactly max_age ago"),
        pytest.param(at(MAX_AGE + 1), False, id="one second past max_age"),
        pytest.param(at(-60), True, id="a minute ahead (clock skew)"),
        pytest.param(at(-61), False, id="further ahead than skew allows"),
        pytest.param(None, False, id="no auth_time"),
    ],
)
def test_a_sign_in_counts_as_recent_up_to_max_age(auth_time: int | None, recent: bool) -> None:
    assert signed_in_recently(auth_time, NOW, MAX_AGE) is recent


def test_an_old_sign_in_is_refused_with_the_max_age_to_request() -> None:
    with pytest.raises(ReauthenticationRequired) as refused:
        require_recent_sign_in(Caller("sub-1", auth_time=at(MAX_AGE + 1)), NOW, MAX_AGE)

    assert refused.value.status == 401
    assert refused.value.extensions == {"max_age": MAX_AGE}
    assert 'error="insufficient_user_authentication"' in refused.value.headers["WWW-Authenticate"]
    assert refused.value.headers["WWW-Authenticate"].endswith("max_age=600")


@pytest.mark.parametrize(
    ("claim", "parsed"),
    [("1795874000", 1795874000), (1795874000, 1795874000), ("soon", None), (True, None), ("1e400", None)],
)
def test_auth_time_is_read_as_api_gateway_passes_it(claim: Any, parsed: int | None) -> None:
    assert caller_from_claims({"sub": "sub-1", "auth_time": claim}).auth_time == parsed


# ------------------------------------------------------------------ the dangerous routes


@pytest.mark.usefixtures("aws")
def test_deleting_the_account_with_an_old_sign_in_is_refused_and_changes_nothing() -> None:
    assert ProfileClient("sub-ada").create("ada")[0] == 201

    assert_reauthentication_required(*ProfileClient("sub-ada", claims=signed_in(11)).delete("ada"))

    assert table.item("ACCOUNT#sub-ada", "PROFILE") is not None
    assert ProfileClient("sub-ada", claims=signed_in(9)).delete("ada")[0] == 204


@pytest.mark.usefixtures("aws")
def test_a_token_without_auth_time_cannot_delete_the_account() -> None:
    assert ProfileClient("sub-ada").create("ada")[0] == 201

    assert_reauthentication_required(*ProfileClient("sub-ada", claims={"auth_time": None}).delete("ada"))


@pytest.mark.usefixtures("aws")
def test_changing_the_user_id_with_an_old_sign_in_is_refused() -> None:
    assert ProfileClient("sub-ada").create("ada")[0] == 201

    assert_reauthentication_required(*ProfileClient("sub-ada", claims=signed_in(11)).change_user_id("countess"))

    assert table.item("HANDLE#ada", "HANDLE") is not None
    assert ProfileClient("sub-ada", claims=signed_in(9)).change_user_id("countess")[0] == 200


@pytest.mark.usefixtures("aws")
def test_the_max_age_is_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECENT_SIGN_IN_MINUTES", "30")
    assert ProfileClient("sub-ada").create("ada")[0] == 201

    status, _, body = ProfileClient("sub-ada", claims=signed_in(31)).delete("ada")
    assert (status, body["max_age"]) == (401, 1800)
    assert ProfileClient("sub-ada", claims=signed_in(11)).delete("ada")[0] == 204


@pytest.mark.usefixtures("aws")
def test_changing_the_primary_email_with_an_old_sign_in_is_refused() -> None:
    verified = {"email": "ada@example.com", "email_verified": "true"}
    assert ProfileClient("sub-ada", claims=verified).create("ada")[0] == 201
    event = http_event(
        "emails/set_primary_email", sub="sub-ada", claims=signed_in(11), body={"address": "ada@example.com"}
    )

    assert_reauthentication_required(*call(emails_app.lambda_handler, event))


@pytest.mark.usefixtures("aws")
def test_other_changes_need_no_recent_sign_in() -> None:
    assert ProfileClient("sub-ada").create("ada")[0] == 201
    old = ProfileClient("sub-ada", claims=signed_in(24 * 60))

    assert old.get()[0] == 200
    assert old.patch({"first_name": "Ada"})[0] == 200
    assert old.set_visibility("public")[0] == 200
