"""Races against moto: many callers at once, one consistent outcome.

Each thread plays one Lambda container: its own service and DynamoDB client, calling the same
domain code the handler calls (a Powertools resolver serves one request at a time, as Lambda
does, so the handler itself is never shared between threads).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from account_billing.accounts.models import ChangeUserIdRequest, CreateAccountRequest, UpdateProfileRequest
from account_billing.accounts.service import AccountService
from account_billing.accounts.store import AccountStore
from account_billing.core.http import versions_matching
from account_billing.core.identity import Caller
from account_billing.core.table import Table
from tests.support import table
from tests.support.concurrency import race as race_containers

pytestmark = pytest.mark.usefixtures("aws")

THREADS = 12


def container() -> AccountService:
    return AccountService(AccountStore(Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])))


def race(calls: list[Callable[[AccountService], Any]]) -> list[int]:
    return race_containers(calls, container)


def create(sub: str, user_id: str) -> Callable[[AccountService], Any]:
    return lambda service: service.create(Caller(sub), CreateAccountRequest(user_id=user_id))


def test_many_new_accounts_claiming_one_user_id_leave_exactly_one_owner() -> None:
    statuses = race([create(f"sub-{i}", "Popular_Name" if i % 2 else "popular_name") for i in range(THREADS)])
    assert Counter(statuses) == {200: 1, 409: THREADS - 1}
    marker = table.item("HANDLE#popular_name", "HANDLE")
    assert marker is not None
    assert marker["owner"] == f"sub-{statuses.index(200)}"
    profiles = [i for i in table.all_items() if i["SK"] == "PROFILE"]
    assert [p["sub"] for p in profiles] == [marker["owner"]]
    assert len([i for i in table.all_items() if i["SK"] == "HANDLE"]) == 1


def test_existing_accounts_racing_to_one_user_id_leave_one_owner_and_no_orphan_marker() -> None:
    service = container()
    for i in range(THREADS):
        service.create(Caller(f"sub-{i}"), CreateAccountRequest(user_id=f"user{i}"))

    def wanting(sub: str) -> Callable[[AccountService], object]:
        return lambda s: s.change_user_id(Caller(sub), ChangeUserIdRequest(user_id="Wanted-Name"), None)

    statuses = race([wanting(f"sub-{i}") for i in range(THREADS)])
    assert Counter(statuses) == {200: 1, 409: THREADS - 1}
    markers = {i["PK"]: i["owner"] for i in table.all_items() if i["SK"] == "HANDLE"}
    profiles = {i["sub"]: i["user_id_key"] for i in table.all_items() if i["SK"] == "PROFILE"}
    # every profile's User ID has a marker that it owns, and no marker is left over
    assert markers == {f"HANDLE#{key}": sub for sub, key in profiles.items()}
    assert profiles[f"sub-{statuses.index(200)}"] == "wanted-name"


def test_one_account_changing_its_user_id_twice_at_once_keeps_one_marker() -> None:
    container().create(Caller("sub-ada"), CreateAccountRequest(user_id="ada"))
    statuses = race(
        [
            lambda s: s.change_user_id(Caller("sub-ada"), ChangeUserIdRequest(user_id="ada-one"), None),
            lambda s: s.change_user_id(Caller("sub-ada"), ChangeUserIdRequest(user_id="ada-two"), None),
        ]
    )
    assert 200 in statuses
    assert set(statuses) <= {200, 409}
    final = container().get(Caller("sub-ada")).user_id
    markers = {i["PK"]: i["owner"] for i in table.all_items() if i["SK"] == "HANDLE"}
    assert markers == {f"HANDLE#{final.lower()}": "sub-ada"}


def test_two_patches_with_the_same_if_match_one_wins_one_gets_412() -> None:
    created = container().create(Caller("sub-ada"), CreateAccountRequest(user_id="ada"))
    versions = versions_matching(f'"v{created.version}"')
    companies = ["First", "Second"]

    def patching(company: str) -> Callable[[AccountService], object]:
        return lambda s: s.update_profile(Caller("sub-ada"), UpdateProfileRequest(company=company), versions)

    statuses = race([patching(company) for company in companies])
    assert sorted(statuses) == [200, 412]
    account = container().get(Caller("sub-ada"))
    assert account.profile.company == companies[statuses.index(200)]
    assert account.version == 2
