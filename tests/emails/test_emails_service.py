"""The email service with a controllable clock and mailer, and its races (one service per
thread, as separate Lambda containers would be)."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from account_billing.core.clock import Clock, utc_now
from account_billing.core.errors import ServiceError, TooManyRequests
from account_billing.core.identity import Caller
from account_billing.core.table import Table
from account_billing.emails.errors import (
    EmailDeliveryFailed,
    EmailTaken,
    InvalidVerificationToken,
    VerificationTokenExpired,
)
from account_billing.emails.messages import Message
from account_billing.emails.service import MAX_SENDS, EmailService
from account_billing.emails.store import EmailStore
from tests.support import table
from tests.support.concurrency import race as race_containers
from tests.support.profile import ProfileClient

pytestmark = pytest.mark.usefixtures("aws")

ADA = Caller("sub-ada")


class ManualClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Outbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.failing = False

    def __call__(self, message: Message) -> None:
        if self.failing:
            raise ConnectionError("SES unreachable")
        self.messages.append(message)

    def token(self, address: str) -> str:
        body = [m.text for m in self.messages if m.to == address and "token=" in m.text][-1]
        match = re.search(r"token=([A-Za-z0-9_-]+)", body)
        assert match
        return match[1]


def service(clock: Clock = utc_now, outbox: Outbox | None = None) -> EmailService:
    store = EmailStore(Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"]))
    return EmailService(store, send=outbox or Outbox(), web_app_url="https://app.example.com", clock=clock)


@pytest.fixture
def accounts(aws: dict[str, str]) -> None:
    ProfileClient("sub-ada", claims={"email": "ada@example.com", "email_verified": "true"}).create("ada")
    ProfileClient("sub-bob", claims={"email": "bob@example.com", "email_verified": "true"}).create("bob")


@pytest.mark.usefixtures("accounts")
def test_a_token_expires_after_24_hours() -> None:
    clock, outbox = ManualClock(), Outbox()
    emails = service(clock, outbox)
    emails.add(ADA, "work@example.com")
    clock.advance(hours=24, seconds=1)
    with pytest.raises(VerificationTokenExpired):
        emails.verify(ADA, outbox.token("work@example.com"))
    assert table.item("EMAIL#work@example.com", "EMAIL") is None


@pytest.mark.usefixtures("accounts")
def test_a_resend_after_the_cooldown_replaces_the_token() -> None:
    clock, outbox = ManualClock(), Outbox()
    emails = service(clock, outbox)
    emails.add(ADA, "work@example.com")
    first = outbox.token("work@example.com")
    clock.advance(seconds=30)
    with pytest.raises(TooManyRequests):
        emails.resend(ADA, "work@example.com")
    clock.advance(seconds=31)
    emails.resend(ADA, "work@example.com")
    second = outbox.token("work@example.com")
    assert second != first
    with pytest.raises(InvalidVerificationToken):
        emails.verify(ADA, first)
    assert emails.verify(ADA, second).verified


@pytest.mark.usefixtures("accounts")
def test_resends_per_address_are_capped() -> None:
    clock, outbox = ManualClock(), Outbox()
    emails = service(clock, outbox)
    emails.add(ADA, "work@example.com")
    for _ in range(MAX_SENDS - 1):
        clock.advance(minutes=2)
        emails.resend(ADA, "work@example.com")
    clock.advance(minutes=2)
    with pytest.raises(TooManyRequests):
        emails.resend(ADA, "work@example.com")
    assert len(outbox.messages) == MAX_SENDS


@pytest.mark.usefixtures("accounts")
def test_when_ses_fails_the_caller_is_told_and_may_resend_at_once() -> None:
    clock, outbox = ManualClock(), Outbox()
    emails = service(clock, outbox)
    outbox.failing = True
    with pytest.raises(EmailDeliveryFailed):
        emails.add(ADA, "work@example.com")
    stored = table.item("ACCOUNT#sub-ada", "EMAIL#work@example.com")
    assert stored is not None
    assert "verification_sent_at" not in stored
    assert "token_hash" not in stored
    outbox.failing = False
    emails.resend(ADA, "work@example.com")  # no cooldown: nothing was sent
    assert emails.verify(ADA, outbox.token("work@example.com")).verified


@pytest.mark.usefixtures("accounts")
def test_a_failed_notice_does_not_undo_a_primary_change() -> None:
    outbox = Outbox()
    emails = service(outbox=outbox)
    emails.add(ADA, "work@example.com")
    emails.verify(ADA, outbox.token("work@example.com"))
    outbox.failing = True
    assert emails.set_primary(ADA, "work@example.com").primary
    assert ProfileClient("sub-ada").get()[2]["primary_email"]["address"] == "work@example.com"


# ------------------------------------------------------------------ races


def race(calls: list[Callable[[EmailService], Any]]) -> list[int]:
    return race_containers(calls, service)


@pytest.mark.usefixtures("accounts")
def test_two_accounts_verifying_one_address_at_once_one_owns_it() -> None:
    ada_out, bob_out = Outbox(), Outbox()
    service(outbox=ada_out).add(ADA, "shared@example.com")
    service(outbox=bob_out).add(Caller("sub-bob"), "shared@example.com")
    tokens = {"sub-ada": ada_out.token("shared@example.com"), "sub-bob": bob_out.token("shared@example.com")}

    def verifying(sub: str) -> Callable[[EmailService], object]:
        return lambda s: s.verify(Caller(sub), tokens[sub])

    statuses = race([verifying(sub) for sub in tokens])
    assert sorted(statuses) == [200, EmailTaken.status]
    winner = list(tokens)[statuses.index(200)]
    assert table.item("EMAIL#shared@example.com", "EMAIL")["owner"] == winner  # type: ignore[index]
    verified = [i["PK"] for i in table.all_items() if i["SK"] == "EMAIL#shared@example.com" and i["verified"]]
    assert verified == [f"ACCOUNT#{winner}"]


@pytest.mark.usefixtures("accounts")
def test_setting_two_primaries_at_once_leaves_exactly_one() -> None:
    outbox = Outbox()
    emails = service(outbox=outbox)
    for address in ("one@example.com", "two@example.com"):
        emails.add(ADA, address)
        emails.verify(ADA, outbox.token(address))

    def choosing(address: str) -> Callable[[EmailService], object]:
        return lambda s: s.set_primary(ADA, address)

    statuses = race([choosing(a) for a in ("one@example.com", "two@example.com")])
    assert Counter(statuses)[200] >= 1
    primaries = [i["address"] for i in table.all_items() if i["PK"] == "ACCOUNT#sub-ada" and i.get("primary")]
    assert len(primaries) == 1
    assert table.item("ACCOUNT#sub-ada", "PROFILE")["primary_email"]["address"] == primaries[0]  # type: ignore[index]


@pytest.mark.usefixtures("accounts")
def test_removing_an_address_while_it_becomes_primary_never_leaves_no_primary() -> None:
    outbox = Outbox()
    emails = service(outbox=outbox)
    emails.add(ADA, "work@example.com")
    emails.verify(ADA, outbox.token("work@example.com"))
    race(
        [
            lambda s: s.set_primary(ADA, "work@example.com"),
            lambda s: s.remove(ADA, "work@example.com"),
        ]
    )
    items = [i for i in table.all_items() if i["PK"] == "ACCOUNT#sub-ada" and i["SK"].startswith("EMAIL#")]
    primaries = [i["address"] for i in items if i.get("primary")]
    assert len(primaries) == 1
    assert table.item("ACCOUNT#sub-ada", "PROFILE")["primary_email"]["address"] == primaries[0]  # type: ignore[index]
    # every verified address left still has its marker, and no marker is orphaned
    markers = {i["PK"].removeprefix("EMAIL#") for i in table.all_items() if i["SK"] == "EMAIL"}
    verified = {i["address"].lower() for i in table.all_items() if i.get("entity") == "email" and i["verified"]}
    assert markers == verified


@pytest.mark.usefixtures("accounts")
def test_an_account_being_deleted_cannot_claim_an_address() -> None:
    outbox = Outbox()
    emails = service(outbox=outbox)
    emails.add(ADA, "work@example.com")
    boto3.client("dynamodb").update_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"PK": {"S": "ACCOUNT#sub-ada"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="SET #s = :deleting",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":deleting": {"S": "deleting"}},
    )
    with pytest.raises(ServiceError):
        emails.verify(ADA, outbox.token("work@example.com"))
    assert table.item("EMAIL#work@example.com", "EMAIL") is None
