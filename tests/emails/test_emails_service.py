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
from account_billing.core.ratelimit_windows import WindowCounters
from account_billing.core.table import Table
from account_billing.emails.errors import (
    EmailDeliveryFailed,
    EmailLimitReached,
    EmailTaken,
    InvalidVerificationToken,
    VerificationTokenExpired,
)
from account_billing.emails.messages import Message
from account_billing.emails.service import MAX_ADDRESSES, EmailService
from account_billing.emails.settings import EmailSettings
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


LIMITS = EmailSettings().send_limits  # the production defaults


def service(
    clock: Clock = utc_now, outbox: Outbox | None = None, settings: EmailSettings | None = None
) -> EmailService:
    table_ = Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
    return EmailService(
        EmailStore(table_),
        send=outbox or Outbox(),
        web_app_url="https://app.example.com",
        counters=WindowCounters(table_, clock),
        limits=(settings or EmailSettings()).send_limits,
        clock=clock,
    )


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
def test_resends_per_address_are_capped_for_the_day() -> None:
    clock, outbox = ManualClock(), Outbox()
    emails = service(clock, outbox)
    emails.add(ADA, "work@example.com")
    for _ in range(LIMITS.per_address.limit - 1):
        clock.advance(minutes=2)
        emails.resend(ADA, "work@example.com")
    clock.advance(minutes=2)
    with pytest.raises(TooManyRequests) as refused:
        emails.resend(ADA, "work@example.com")
    assert len(outbox.messages) == LIMITS.per_address.limit
    assert refused.value.retry_after_seconds == 12 * 3600 - 2 * 60 * LIMITS.per_address.limit  # the day's end


# ------------------------------------------------------------------ budgets that survive removal


@pytest.mark.usefixtures("accounts")
def test_removing_an_address_and_adding_it_again_keeps_its_interval() -> None:
    # (found: deleting and re-adding reset the 60 s cooldown: 12 emails to one address in 2 s)
    clock, outbox = ManualClock(), Outbox()
    emails = service(clock, outbox)
    emails.add(ADA, "victim@example.net")
    emails.remove(ADA, "victim@example.net")
    clock.advance(seconds=1)

    with pytest.raises(TooManyRequests) as refused:
        emails.add(ADA, "victim@example.net")

    assert refused.value.retry_after_seconds == 59
    assert len(outbox.messages) == 1
    assert [e.address for e in emails.list(ADA).emails] == ["ada@example.com"]  # nothing was added


@pytest.mark.usefixtures("accounts")
def test_removing_an_address_and_adding_it_again_keeps_its_daily_budget() -> None:
    clock, outbox = ManualClock(), Outbox()
    emails = service(clock, outbox)
    for _ in range(LIMITS.per_address.limit):
        emails.add(ADA, "victim@example.net")
        emails.remove(ADA, "victim@example.net")
        clock.advance(minutes=1)

    with pytest.raises(TooManyRequests, match="a day go to one address"):
        emails.add(ADA, "Victim@Example.NET")  # the same address, however it is written

    assert len(outbox.messages) == LIMITS.per_address.limit


@pytest.mark.usefixtures("accounts")
def test_an_addresss_daily_budget_is_shared_by_every_account() -> None:
    # many accounts cannot bomb one recipient either; each account has its own interval
    clock, outbox = ManualClock(), Outbox()
    for n in range(LIMITS.per_address.limit):
        ProfileClient(f"sub-{n}").create(f"user{n}")
        service(clock, outbox).add(Caller(f"sub-{n}"), "victim@example.net")
    with pytest.raises(TooManyRequests, match="a day go to one address"):
        service(clock, outbox).add(ADA, "victim@example.net")
    assert len(outbox.messages) == LIMITS.per_address.limit


@pytest.mark.usefixtures("accounts")
def test_an_account_sends_a_bounded_number_of_verification_emails_a_day() -> None:
    # (found: 24 emails to different addresses in 3 s from one account)
    clock, outbox = ManualClock(), Outbox()
    emails = service(clock, outbox)
    for n in range(LIMITS.per_account.limit):
        emails.add(ADA, f"someone{n}@example.net")
        emails.remove(ADA, f"someone{n}@example.net")

    with pytest.raises(TooManyRequests, match="a day go out for one account"):
        emails.add(ADA, "one-more@example.net")

    assert len(outbox.messages) == LIMITS.per_account.limit
    assert not any(e.address == "one-more@example.net" for e in emails.list(ADA).emails)


@pytest.mark.usefixtures("accounts")
def test_the_budgets_are_configuration() -> None:
    clock, outbox = ManualClock(), Outbox()
    emails = service(clock, outbox, EmailSettings(verification_emails_per_account_per_day=2))
    emails.add(ADA, "a@example.net")
    emails.add(ADA, "b@example.net")
    with pytest.raises(TooManyRequests):
        emails.add(ADA, "c@example.net")


# ------------------------------------------------------------------ the address count, by construction


def _fill(emails: EmailService, clock: ManualClock) -> list[str]:
    """Ada's addresses up to the limit (her sign-up address is one)."""
    added = [f"extra{n}@example.com" for n in range(MAX_ADDRESSES - 1)]
    for address in added:
        emails.add(ADA, address)
    return added


@pytest.mark.usefixtures("accounts")
def test_an_address_that_dynamodbs_ttl_removed_no_longer_counts() -> None:
    # (found: the profile's counter stayed up: after expiry, 409 email-limit-reached for ever)
    clock = ManualClock()
    emails = service(clock)
    added = _fill(emails, clock)
    with pytest.raises(EmailLimitReached):
        emails.add(ADA, "full@example.com")

    # When DynamoDB's TTL removes an unverified address (as it does, with no request of ours)
    boto3.client("dynamodb").delete_item(
        TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": "ACCOUNT#sub-ada"}, "SK": {"S": f"EMAIL#{added[0]}"}}
    )

    # Then the account may add another
    assert emails.add(ADA, "room@example.com").address == "room@example.com"
    assert len(emails.list(ADA).emails) == MAX_ADDRESSES


@pytest.mark.usefixtures("accounts")
def test_an_expired_address_is_gone_before_ttl_removes_its_item() -> None:
    clock = ManualClock()
    emails = service(clock)
    emails.add(ADA, "late@example.com")
    clock.advance(days=3, seconds=1)  # unverified for three days: expired, its item still there

    assert [e.address for e in emails.list(ADA).emails] == ["ada@example.com"]
    assert emails.add(ADA, "late@example.com").address == "late@example.com"  # added again, afresh
    assert [e.address for e in emails.list(ADA).emails] == ["ada@example.com", "late@example.com"]


@pytest.mark.usefixtures("accounts")
def test_concurrent_additions_never_get_past_the_limit() -> None:
    clock = ManualClock()
    _fill(service(clock), clock)
    emails = service(clock)
    emails.remove(ADA, "extra0@example.com")
    emails.remove(ADA, "extra1@example.com")  # two places free

    def adding(n: int) -> Callable[[EmailService], object]:
        return lambda s: s.add(ADA, f"racer{n}@example.com")

    statuses = race_containers([adding(n) for n in range(8)], lambda: service(clock))

    assert sorted(statuses) == [200, 200] + [EmailLimitReached.status] * 6
    assert len(emails.list(ADA).emails) == MAX_ADDRESSES


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
