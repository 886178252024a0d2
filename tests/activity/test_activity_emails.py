"""Email changes in the activity log: each written in the transaction that makes the change."""

from __future__ import annotations

import pytest

from tests.activity.support import entries, kinds
from tests.support.emails import EmailsClient
from tests.support.mailbox import latest_token
from tests.support.profile import ProfileClient

pytestmark = pytest.mark.usefixtures("aws")


def test_adding_verifying_making_primary_and_removing_addresses_are_logged() -> None:
    ProfileClient("sub-ada", claims={"email": "ada@example.com", "email_verified": "true"}).create("ada")
    ada = EmailsClient("sub-ada")
    assert ada.add("countess@example.com")[0] == 201
    assert ada.verify(latest_token("countess@example.com"))[0] == 200
    assert ada.set_primary("countess@example.com")[0] == 200
    assert ada.remove("ada@example.com")[0] == 204

    log = entries("sub-ada")

    assert [e["kind"] for e in log] == [
        "email.removed",
        "email.primary_changed",
        "email.verified",
        "email.added",
        "account.created",
    ]
    assert log[1]["details"] == {"address": "countess@example.com", "previous_address": "ada@example.com"}
    assert {e["actor"] for e in log} == {"user"}


def test_a_refused_change_leaves_no_entry() -> None:
    ProfileClient("sub-ada", claims={"email": "ada@example.com", "email_verified": "true"}).create("ada")
    ProfileClient("sub-bob", claims={"email": "bob@example.com", "email_verified": "true"}).create("bob")

    assert EmailsClient("sub-ada").add("bob@example.com")[0] == 409  # verified by another account
    assert EmailsClient("sub-ada").remove("ada@example.com")[0] == 409  # the primary

    assert kinds("sub-ada") == ["account.created"]
