"""The profile function end to end through its handler, against moto's DynamoDB.

Events come from `events/profile/`; the table is built from template.yaml.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from functions.profile import app as profile
from tests.support import table
from tests.support.events import call, http_event
from tests.support.profile import ProfileClient

pytestmark = pytest.mark.usefixtures("aws")

ADA = ProfileClient("sub-ada")
BOB = ProfileClient("sub-bob")
VERIFIED = {"email": "Ada@Example.com", "email_verified": "true"}


def problem_type(body: dict[str, Any]) -> str:
    return str(body["type"]).rsplit(":", 1)[-1]


# ------------------------------------------------------------------ creation


def test_create_returns_the_account_with_an_etag() -> None:
    status, headers, body = ADA.create("Ada_Lovelace", first_name="Ada", last_name="Lovelace", country="gb")
    assert status == 201
    assert headers["etag"] == '"v1"'
    assert headers["cache-control"] == "no-store"
    assert body["user_id"] == "Ada_Lovelace"
    assert body["profile"]["country"] == "GB"
    assert body["visibility"] == "private"
    assert body["avatar"] == {
        "status": "none",
        "url": None,
        "thumbnail_url": None,
        "initials": "AL",
        "rejection_reason": None,
    }
    assert body["primary_email"] is None
    assert body["version"] == 1
    assert ("HANDLE#ada_lovelace", "HANDLE") in table.key_pairs()


def test_a_verified_token_email_becomes_the_primary_address() -> None:
    status, _, body = ProfileClient("sub-ada", claims=VERIFIED).create()
    assert status == 201
    assert body["primary_email"] == {"address": "Ada@Example.com", "verified": True}
    email = table.item("ACCOUNT#sub-ada", "EMAIL#ada@example.com")
    assert email is not None
    assert (email["address"], email["verified"], email["primary"]) == ("Ada@Example.com", True, True)
    assert table.item("EMAIL#ada@example.com", "EMAIL") == {
        "PK": "EMAIL#ada@example.com",
        "SK": "EMAIL",
        "owner": "sub-ada",
    }


def test_an_unverified_token_email_is_not_recorded() -> None:
    status, _, body = ProfileClient("sub-ada", claims={"email": "ada@example.com", "email_verified": "false"}).create()
    assert status == 201
    assert body["primary_email"] is None
    assert not any(pk.startswith("EMAIL#") for pk, _ in table.key_pairs())


def test_an_email_verified_by_another_account_does_not_block_sign_up() -> None:
    assert ProfileClient("sub-ada", claims=VERIFIED).create("ada")[0] == 201
    status, _, body = ProfileClient("sub-bob", claims={"email": "ada@example.com", "email_verified": True}).create(
        "bob"
    )
    assert status == 201
    assert body["primary_email"] is None
    assert table.item("EMAIL#ada@example.com", "EMAIL")["owner"] == "sub-ada"  # type: ignore[index]


def test_creating_twice_is_409_and_changes_nothing() -> None:
    ADA.create("ada_lovelace", first_name="Ada")
    before = table.all_items()
    status, _, body = ADA.create("someone_else", first_name="Changed")
    assert status == 409
    assert problem_type(body) == "account-exists"
    assert table.all_items() == before


def test_a_user_id_is_unique_whatever_its_case() -> None:
    ADA.create("ada_lovelace")
    status, _, body = BOB.create("ADA_Lovelace")
    assert status == 409
    assert problem_type(body) == "user-id-taken"
    assert table.item("ACCOUNT#sub-bob", "PROFILE") is None


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"user_id": "ad"}, "#/user_id"),
        ({"user_id": "admin"}, "#/user_id"),
        ({"user_id": "ada lovelace"}, "#/user_id"),
        ({"user_id": 123}, "#/user_id"),
        ({}, "#/user_id"),
        ({"user_id": "ada", "first_name": "x" * 101}, "#/first_name"),
        ({"user_id": "ada", "first_name": "line\nbreak"}, "#/first_name"),
        ({"user_id": "ada", "is_admin": True}, "#/is_admin"),
        ({"user_id": "ada", "visibility": "friends"}, "#/visibility"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(payload: dict[str, Any], pointer: str) -> None:
    status, headers, body = call(
        profile.lambda_handler,
        http_event("profile/create_account", sub="sub-ada", body=payload),
    )
    assert status == 422
    assert headers["content-type"] == "application/problem+json"
    assert pointer in [error.get("pointer") for error in body["errors"]]
    assert table.all_items() == []


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", "null", '"ada"'])
def test_a_body_that_is_not_a_json_object_is_a_4xx_problem(raw: str) -> None:
    status, headers, body = call(
        profile.lambda_handler, http_event("profile/create_account", sub="sub-ada", raw_body=raw)
    )
    assert status in (400, 422)
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == status
    assert table.all_items() == []


def test_a_non_json_content_type_is_415() -> None:
    event = http_event("profile/create_account", sub="sub-ada", headers={"content-type": "text/plain"})
    status, _, body = call(profile.lambda_handler, event)
    assert status == 415
    assert problem_type(body) == "unsupported-media-type"


@pytest.mark.parametrize(
    "sample", ["create_account", "get_account", "update_profile", "change_user_id", "set_visibility", "delete_account"]
)
def test_every_account_route_needs_an_identity(sample: str) -> None:
    status, headers, body = call(profile.lambda_handler, http_event(f"profile/{sample}", sub=None))
    assert status == 401
    assert problem_type(body) == "unauthenticated"
    assert headers["content-type"] == "application/problem+json"


# ------------------------------------------------------------------ reading


def test_get_without_an_account_is_404() -> None:
    status, _, body = ADA.get()
    assert status == 404
    assert problem_type(body) == "account-not-found"


def test_get_returns_what_was_created() -> None:
    _, _, created = ADA.create("ada", first_name="Ada", company="Engines Ltd")
    status, headers, body = ADA.get()
    assert status == 200
    assert body == created
    assert headers["etag"] == '"v1"'


# ------------------------------------------------------------------ profile edits


def test_patch_changes_only_the_fields_sent_and_bumps_the_version() -> None:
    ADA.create("ada", first_name="Ada", last_name="Lovelace", company="Engines")
    status, headers, body = ADA.patch({"company": "  Analytical\u0301 Engines  ", "job_title": "Mathematician"})
    assert status == 200
    assert headers["etag"] == '"v2"'
    assert body["profile"]["company"] == "Analytical\u0301 Engines".replace("l\u0301", "ĺ")
    assert body["profile"]["job_title"] == "Mathematician"
    assert body["profile"]["first_name"] == "Ada"
    assert body["version"] == 2
    assert ADA.get()[2] == body


def test_null_or_empty_clears_a_field() -> None:
    ADA.create("ada", first_name="Ada", company="Engines", bio="Hello")
    status, _, body = ADA.patch({"company": None, "bio": "  "})
    assert status == 200
    assert body["profile"]["company"] is None
    assert body["profile"]["bio"] is None
    stored = table.item("ACCOUNT#sub-ada", "PROFILE")
    assert stored is not None
    assert "company" not in stored
    assert "bio" not in stored


def test_an_invalid_patch_changes_nothing() -> None:
    ADA.create("ada", first_name="Ada")
    before = table.all_items()
    status, _, body = ADA.patch({"first_name": "Ada Augusta", "website": "not a url"})
    assert status == 422
    assert [error["pointer"] for error in body["errors"]] == ["#/website"]
    assert table.all_items() == before


def test_patch_with_the_current_etag_succeeds_and_a_stale_one_is_412() -> None:
    _, headers, _ = ADA.create("ada")
    assert ADA.patch({"first_name": "Ada"}, if_match=headers["etag"])[0] == 200
    status, _, body = ADA.patch({"first_name": "Stale"}, if_match=headers["etag"])
    assert status == 412
    assert problem_type(body) == "precondition-failed"
    assert ADA.get()[2]["profile"]["first_name"] == "Ada"


def test_patch_without_an_account_is_404() -> None:
    status, _, body = ADA.patch({"first_name": "Ada"})
    assert status == 404
    assert problem_type(body) == "account-not-found"


def test_an_empty_patch_changes_nothing() -> None:
    ADA.create("ada")
    status, headers, body = ADA.patch({})
    assert status == 200
    assert headers["etag"] == '"v1"'
    assert body["version"] == 1


# ------------------------------------------------------------------ User ID


def test_changing_the_user_id_moves_the_marker_and_frees_the_old_one() -> None:
    ADA.create("ada_lovelace")
    status, headers, body = ADA.change_user_id("Countess-Ada")
    assert status == 200
    assert body["user_id"] == "Countess-Ada"
    assert body["previous_user_id"] == "ada_lovelace"
    assert body["redirects"] is False
    assert "redirect" in body["notice"]
    assert headers["etag"] == '"v2"'
    markers = {pk for pk, sk in table.key_pairs() if sk == "HANDLE"}
    assert markers == {"HANDLE#countess-ada"}
    assert ADA.get()[2]["user_id"] == "Countess-Ada"
    # the old User ID is free at once
    assert BOB.create("ADA_LOVELACE")[0] == 201


def test_changing_only_the_case_of_your_own_user_id_works() -> None:
    ADA.create("ada_lovelace")
    status, _, body = ADA.change_user_id("Ada_Lovelace")
    assert status == 200
    assert body["user_id"] == "Ada_Lovelace"
    assert {pk for pk, sk in table.key_pairs() if sk == "HANDLE"} == {"HANDLE#ada_lovelace"}
    assert ADA.get()[2]["user_id"] == "Ada_Lovelace"


def test_the_same_user_id_is_a_no_op() -> None:
    ADA.create("ada")
    status, headers, body = ADA.change_user_id("ada")
    assert status == 200
    assert headers["etag"] == '"v1"'
    assert body["previous_user_id"] == "ada"


def test_a_taken_user_id_is_409_and_nothing_moves() -> None:
    ADA.create("ada")
    BOB.create("bob")
    before = table.all_items()
    status, _, body = ADA.change_user_id("BOB")
    assert status == 409
    assert problem_type(body) == "user-id-taken"
    assert table.all_items() == before


@pytest.mark.parametrize("user_id", ["support", "a", "ada__x", "ad min", "x" * 40])
def test_an_invalid_new_user_id_is_422(user_id: str) -> None:
    ADA.create("ada")
    status, _, body = ADA.change_user_id(user_id)
    assert status == 422
    assert body["errors"][0]["pointer"] == "#/user_id"


def test_a_user_id_change_honours_if_match() -> None:
    ADA.create("ada")
    ADA.patch({"first_name": "Ada"})
    status, _, _ = ADA.change_user_id("ada2", if_match='"v1"')
    assert status == 412
    assert ADA.get()[2]["user_id"] == "ada"


# ------------------------------------------------------------------ visibility and the public profile


def test_a_new_account_is_private_and_has_no_public_profile() -> None:
    ADA.create("ada")
    status, _, body = ADA.public("ada")
    assert status == 404
    assert problem_type(body) == "user-not-found"


def test_a_public_profile_is_found_case_insensitively_without_a_token() -> None:
    ADA.create("Ada_Lovelace", first_name="Ada", last_name="Lovelace", job_title="Mathematician")
    assert ADA.set_visibility("public")[0] == 200
    status, _, body = ADA.public("ada_LOVELACE")
    assert status == 200
    assert body["user_id"] == "Ada_Lovelace"
    assert body["job_title"] == "Mathematician"
    assert body["avatar"]["initials"] == "AL"
    # public fields only
    assert not {"visibility", "primary_email", "version", "status", "job_role"} & set(body)


def test_a_private_and_a_missing_profile_give_the_same_404() -> None:
    ADA.create("ada")
    ADA.set_visibility("public")
    ADA.set_visibility("private")
    private = ADA.public("ada")
    missing = ADA.public("nobody")
    invalid = ADA.public("not a valid id")
    assert private[0] == missing[0] == invalid[0] == 404
    assert {problem_type(private[2]), problem_type(missing[2]), problem_type(invalid[2])} == {"user-not-found"}
    assert private[2]["title"] == missing[2]["title"]


def test_visibility_must_be_public_or_private() -> None:
    ADA.create("ada")
    status, _, body = ADA.set_visibility("friends")
    assert status == 422
    assert body["errors"][0]["pointer"] == "#/visibility"


# ------------------------------------------------------------------ deletion


def test_deletion_needs_the_current_user_id_as_confirmation() -> None:
    ADA.create("ada")
    before = table.all_items()
    status, _, body = ADA.delete("bob")
    assert status == 422
    assert problem_type(body) == "confirmation-mismatch"
    assert table.all_items() == before


def test_deletion_erases_everything_and_frees_the_user_id_and_emails() -> None:
    ProfileClient("sub-ada", claims=VERIFIED).create("Ada_Lovelace", first_name="Ada")
    ADA.set_visibility("public")
    BOB.create("bob")
    status, headers, body = ADA.delete("ada_lovelace")  # the confirmation is not case-sensitive
    assert status == 204
    assert body is None
    assert headers["cache-control"] == "no-store"

    remaining = table.all_items()
    ada_items = [i for i in remaining if "sub-ada" in json.dumps(i)]
    assert [(i["PK"], i["SK"]) for i in ada_items] == [("ACCOUNT#sub-ada", "TOMBSTONE")]
    tombstone = ada_items[0]
    assert tombstone["expires_at"] > time.time() + 29 * 86400
    assert ADA.get()[0] == 404
    assert ADA.public("Ada_Lovelace")[0] == 404
    # Bob's data is untouched, and the User ID and address are free for others.
    assert BOB.get()[0] == 200
    assert BOB.change_user_id("ada_lovelace")[0] == 200
    carol = ProfileClient("sub-carol", claims={"email": "ada@example.com", "email_verified": "true"})
    assert carol.create("carol")[2]["primary_email"] == {"address": "ada@example.com", "verified": True}


def test_deleting_twice_is_404() -> None:
    ADA.create("ada")
    assert ADA.delete("ada")[0] == 204
    status, _, body = ADA.delete("ada")
    assert status == 404
    assert problem_type(body) == "account-not-found"


def test_the_same_key_can_sign_up_again_after_deletion() -> None:
    ADA.create("ada")
    ADA.delete("ada")
    status, _, body = ADA.create("ada_again")
    assert status == 201
    assert body["user_id"] == "ada_again"
    assert table.item("ACCOUNT#sub-ada", "TOMBSTONE") is None


def test_an_unknown_route_is_a_404_problem() -> None:
    event = http_event("profile/get_account", sub="sub-ada")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/nowhere"
    status, headers, body = call(profile.lambda_handler, event)
    assert status == 404
    assert headers["content-type"] == "application/problem+json"
    assert body["type"].endswith("not-found")
