"""The emails function through its handler, against moto's DynamoDB and SES."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support import mailbox, table
from tests.support.emails import EmailsClient
from tests.support.profile import ProfileClient

pytestmark = pytest.mark.usefixtures("aws")

ADA_PRIMARY = "ada@example.com"


@pytest.fixture
def ada(aws: dict[str, str]) -> EmailsClient:
    """An account whose sign-up token carried a verified address (its primary)."""
    status, _, _ = ProfileClient("sub-ada", claims={"email": ADA_PRIMARY, "email_verified": "true"}).create("ada")
    assert status == 201
    return EmailsClient("sub-ada")


def kind(body: dict[str, Any]) -> str:
    return str(body["type"]).rsplit(":", 1)[-1]


def verify(client: EmailsClient, address: str) -> tuple[int, dict[str, str], Any]:
    return client.verify(mailbox.latest_token(address))


def test_adding_stores_it_unverified_and_sends_a_single_use_link(ada: EmailsClient) -> None:
    status, _, body = ada.add("Ada.Work@Example.com")
    assert status == 201
    assert body["address"] == "Ada.Work@Example.com"
    assert (body["verified"], body["primary"]) == (False, False)
    assert body["verification_sent_at"] is not None
    [message] = mailbox.messages_to("Ada.Work@Example.com")
    assert message.source == "no-reply@example.com"
    assert "/settings/account/emails/verify?token=" in message.body
    token = mailbox.latest_token("Ada.Work@Example.com")
    stored = table.item("ACCOUNT#sub-ada", "EMAIL#ada.work@example.com")
    assert stored is not None
    assert token not in str(stored)  # only its hash is kept
    assert len(stored["token_hash"]) == 64
    assert 23 * 3600 < stored["token_expires_at"] - time.time() <= 24 * 3600
    assert 2 * 86400 < stored["expires_at"] - time.time() <= 3 * 86400  # unverified: removed by TTL
    assert table.item("EMAIL#ada.work@example.com", "EMAIL") is None  # unverified blocks nobody


@pytest.mark.parametrize("address", ["not-an-address", "a@b", "ada@@example.com", "x" * 250 + "@example.com", 42, ""])
def test_an_invalid_address_is_422_and_nothing_is_sent(ada: EmailsClient, address: Any) -> None:
    before = table.all_items()
    status, _, body = ada.add(address)
    assert status == 422
    assert body["errors"][0]["pointer"] == "#/address"
    assert table.all_items() == before
    assert mailbox.sent() == []


def test_an_address_already_on_the_account_is_409_whatever_its_case(ada: EmailsClient) -> None:
    ada.add("work@example.com")
    status, _, body = ada.add("WORK@example.com")
    assert status == 409
    assert kind(body) == "email-already-added"
    status, _, body = ada.add("ADA@example.com")
    assert status == 409


def test_an_address_verified_by_another_account_cannot_be_added(ada: EmailsClient) -> None:
    ProfileClient("sub-bob").create("bob")
    status, _, body = EmailsClient("sub-bob").add(ADA_PRIMARY)
    assert status == 409
    assert kind(body) == "email-taken"
    assert table.item("ACCOUNT#sub-bob", "EMAIL#ada@example.com") is None


def test_an_account_has_at_most_ten_addresses(ada: EmailsClient) -> None:
    for i in range(9):
        assert ada.add(f"a{i}@example.com")[0] == 201
    status, _, body = ada.add("one-too-many@example.com")
    assert status == 409
    assert kind(body) == "email-limit-reached"
    assert len(ada.list()[2]["emails"]) == 10
    # removing one makes room again
    assert ada.remove("a0@example.com")[0] == 204
    assert ada.add("one-too-many@example.com")[0] == 201


def test_an_address_removed_by_dynamodbs_ttl_stops_counting(ada: EmailsClient) -> None:
    # (found: the profile's counter never went down: 409 email-limit-reached for ever)
    for n in range(9):
        assert ada.add(f"extra{n}@example.com")[0] == 201
    assert ada.add("full@example.com")[0] == 409
    table.expire("ACCOUNT#sub-ada", "EMAIL#extra0@example.com")  # TTL removes an unverified one

    status, _, body = ada.add("room@example.com")

    assert status == 201, body
    assert len(ada.list()[2]["emails"]) == 10


def test_removing_an_address_and_adding_it_again_sends_nothing_more(ada: EmailsClient) -> None:
    # (found: delete and re-add reset the cooldown: 12 verification emails to one address in 2 s)
    answers = []
    for _ in range(12):
        answers.append(ada.add("victim@example.net"))
        ada.remove("victim@example.net")

    assert answers[0][0] == 201
    refused = [a for a in answers[1:] if a[0] != 201]
    assert {(a[0], kind(a[2])) for a in refused} == {(429, "too-many-requests")}
    assert all(int(a[1]["retry-after"]) >= 1 for a in refused)
    # a window boundary may fall inside the loop: at most one more email goes out then
    assert len(mailbox.messages_to("victim@example.net")) <= 2


def test_adding_without_an_account_is_404() -> None:
    status, _, body = EmailsClient("sub-nobody").add("x@example.com")
    assert status == 404
    assert kind(body) == "account-not-found"


def test_verifying_claims_the_address(ada: EmailsClient) -> None:
    ada.add("work@example.com")
    status, _, body = verify(ada, "work@example.com")
    assert status == 200
    assert (body["verified"], body["primary"]) == (True, False)
    stored = table.item("ACCOUNT#sub-ada", "EMAIL#work@example.com")
    assert stored is not None
    assert stored["verified"] is True
    assert "expires_at" not in stored
    assert "token_hash" not in stored
    assert table.item("EMAIL#work@example.com", "EMAIL") == {
        "PK": "EMAIL#work@example.com",
        "SK": "EMAIL",
        "owner": "sub-ada",
    }


def test_a_token_works_once(ada: EmailsClient) -> None:
    ada.add("work@example.com")
    token = mailbox.latest_token("work@example.com")
    assert ada.verify(token)[0] == 200
    status, _, body = ada.verify(token)
    assert status == 422
    assert kind(body) == "invalid-verification-token"


@pytest.mark.parametrize("token", ["A" * 43, "short", "has spaces in it!!", 123])
def test_a_wrong_token_is_a_4xx_and_changes_nothing(ada: EmailsClient, token: Any) -> None:
    ada.add("work@example.com")
    before = table.all_items()
    status, _, _ = ada.verify(token)
    assert status == 422
    assert table.all_items() == before


def test_another_accounts_token_does_not_verify_for_you(ada: EmailsClient) -> None:
    ProfileClient("sub-bob").create("bob")
    ada.add("shared@example.com")
    status, _, _ = EmailsClient("sub-bob").verify(mailbox.latest_token("shared@example.com"))
    assert status == 422
    assert table.item("EMAIL#shared@example.com", "EMAIL") is None


def test_the_first_to_verify_an_address_owns_it(ada: EmailsClient) -> None:
    ProfileClient("sub-bob").create("bob")
    bob = EmailsClient("sub-bob")
    ada.add("shared@example.com")
    ada_token = mailbox.latest_token("shared@example.com")
    assert bob.add("shared@example.com")[0] == 201  # unverified addresses block nobody
    bob_token = mailbox.latest_token("shared@example.com")
    assert bob.verify(bob_token)[0] == 200
    status, _, body = ada.verify(ada_token)
    assert status == 409
    assert kind(body) == "email-taken"
    assert table.item("EMAIL#shared@example.com", "EMAIL")["owner"] == "sub-bob"  # type: ignore[index]
    assert table.item("ACCOUNT#sub-ada", "EMAIL#shared@example.com")["verified"] is False  # type: ignore[index]


def test_the_first_verified_address_of_an_account_becomes_its_primary() -> None:
    ProfileClient("sub-carol").create("carol")
    carol = EmailsClient("sub-carol")
    carol.add("carol@example.com")
    status, _, body = verify(carol, "carol@example.com")
    assert status == 200
    assert body["primary"] is True
    account = ProfileClient("sub-carol").get()[2]
    assert account["primary_email"] == {"address": "carol@example.com", "verified": True}
    assert account["version"] == 2


def test_resending_is_rate_limited(ada: EmailsClient) -> None:
    ada.add("work@example.com")
    status, headers, body = ada.resend("work@example.com")
    assert status == 429
    assert headers["retry-after"] == "60"
    assert kind(body) == "too-many-requests"
    assert len(mailbox.messages_to("work@example.com")) == 1


def test_list_shows_every_address_primary_first(ada: EmailsClient) -> None:
    ada.add("b@example.com")
    ada.add("a@example.com")
    verify(ada, "a@example.com")
    status, _, body = ada.list()
    assert status == 200
    assert body["limit"] == 10
    assert [(e["address"], e["verified"], e["primary"]) for e in body["emails"]] == [
        (ADA_PRIMARY, True, True),
        ("a@example.com", True, False),
        ("b@example.com", False, False),
    ]
    assert all(e["added_at"] for e in body["emails"])


def test_making_a_verified_address_primary_moves_the_flag_and_tells_the_old_one(ada: EmailsClient) -> None:
    ada.add("work@example.com")
    verify(ada, "work@example.com")
    version_before = ProfileClient("sub-ada").get()[2]["version"]
    status, _, body = ada.set_primary("WORK@example.com")
    assert status == 200
    assert body["primary"] is True
    primaries = [e["address"] for e in ada.list()[2]["emails"] if e["primary"]]
    assert primaries == ["work@example.com"]
    account = ProfileClient("sub-ada").get()[2]
    assert account["primary_email"]["address"] == "work@example.com"
    assert account["version"] == version_before + 1
    [notice] = [m for m in mailbox.messages_to(ADA_PRIMARY) if "primary" in m.subject.lower()]
    assert "work@example.com" in notice.body


def test_an_unverified_address_cannot_become_primary(ada: EmailsClient) -> None:
    ada.add("work@example.com")
    status, _, body = ada.set_primary("work@example.com")
    assert status == 409
    assert kind(body) == "email-not-verified"
    assert ProfileClient("sub-ada").get()[2]["primary_email"]["address"] == ADA_PRIMARY


def test_the_primary_cannot_be_removed(ada: EmailsClient) -> None:
    status, _, body = ada.remove(ADA_PRIMARY)
    assert status == 409
    assert kind(body) == "primary-email-removal"
    assert table.item("EMAIL#ada@example.com", "EMAIL") is not None


def test_removing_a_verified_address_frees_it_for_others(ada: EmailsClient) -> None:
    ada.add("work@example.com")
    verify(ada, "work@example.com")
    status, _, _ = ada.remove("work@example.com")
    assert status == 204
    assert table.item("EMAIL#work@example.com", "EMAIL") is None
    assert table.item("ACCOUNT#sub-ada", "EMAIL#work@example.com") is None
    ProfileClient("sub-bob").create("bob")
    assert EmailsClient("sub-bob").add("work@example.com")[0] == 201


def test_removing_an_unknown_address_is_404(ada: EmailsClient) -> None:
    status, _, body = ada.remove("nobody@example.com")
    assert status == 404
    assert kind(body) == "email-not-found"


def test_account_deletion_frees_every_verified_address(ada: EmailsClient) -> None:
    ada.add("work@example.com")
    verify(ada, "work@example.com")
    assert ProfileClient("sub-ada").delete("ada")[0] == 204
    assert not [pk for pk, _ in table.key_pairs() if pk.startswith("EMAIL#")]
    assert not [sk for pk, sk in table.key_pairs() if pk == "ACCOUNT#sub-ada" and sk.startswith("EMAIL#")]
