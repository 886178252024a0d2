"""The local clock over HTTP: moving it a month renews a subscription (the renewal invoice arrives
through Stripe's signed webhook), releases a card's hold at its schedule's time, and lets DynamoDB
TTL take an address left unverified. Its own stack: moving time would disturb the other tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import python_module, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def timed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(state_dir=tmp_path_factory.mktemp("clock-state"), clock_interval=0.2) as running:
        yield running


@pytest.fixture
def client(timed_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=timed_stack.base_url, timeout=60) as http:
        yield http


def _new_account(stack: LocalStack, client: httpx.Client) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    auth = {"Authorization": f"Bearer {stack.issue_token(f'clock-{suffix}')}"}
    created = client.post("/v1/account", json={"user_id": f"clock_{suffix}"}, headers=auth)
    assert created.status_code == 201, created.text
    return auth


def _invoices(client: httpx.Client, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/v1/billing/invoices", headers=auth)
    assert response.status_code == 200, response.text
    invoices: list[dict[str, Any]] = response.json()["invoices"]
    return invoices


def test_a_month_later_the_renewal_is_invoiced_and_paid_and_the_hold_released(
    timed_stack: LocalStack, client: httpx.Client
) -> None:
    auth = _new_account(timed_stack, client)
    card = client.post(
        "/v1/billing/payment-methods",
        json={"payment_method": "pm_card_visa"},
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert card.status_code == 201, card.text
    assert card.json()["hold"]["status"] == "held"
    subscribed = client.put(
        "/v1/billing/subscription", json={"plan": "developer"}, headers={**auth, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert subscribed.status_code == 200, subscribed.text
    wait_for(lambda: _invoices(client, auth), timeout=60)
    period_end = client.get("/v1/billing/subscription", headers=auth).json()["current_period_end"]

    before = client.get("/_local/clock").json()
    moved = client.post("/_local/clock/advance", json={"days": 31})

    assert moved.status_code == 200, moved.text
    assert moved.json()["offset_days"] == pytest.approx(before["offset_days"] + 31, abs=0.01)
    assert any("release-hold_" in name for name in moved.json()["schedules_fired"])
    assert moved.json()["stripe_events"] > 0

    def renewal() -> dict[str, Any] | None:
        return next((i for i in _invoices(client, auth) if i["billing_reason"] == "subscription_cycle"), None)

    renewed = wait_for(renewal, timeout=60)
    assert (renewed["status"], renewed["amount_paid"]) == ("paid", _invoices(client, auth)[-1]["amount_paid"])

    def next_period() -> str | None:
        current = client.get("/v1/billing/subscription", headers=auth).json()["current_period_end"]
        return current if current != period_end else None

    assert wait_for(next_period, timeout=60) > period_end
    listed = client.get("/v1/billing/payment-methods", headers=auth).json()["payment_methods"]
    assert listed[0]["hold"]["status"] == "released"


def test_an_address_left_unverified_for_three_days_expires(timed_stack: LocalStack, client: httpx.Client) -> None:
    auth = _new_account(timed_stack, client)
    added = client.post("/v1/account/emails", json={"address": "later@example.com"}, headers=auth)
    assert added.status_code == 201, added.text

    def addresses() -> list[str]:
        return [e["address"] for e in client.get("/v1/account/emails", headers=auth).json()["emails"]]

    client.post("/_local/clock/advance", json={"days": 2})
    assert "later@example.com" in addresses()
    moved = client.post("/_local/clock/advance", json={"days": 1, "hours": 1})

    assert moved.json()["items_expired"] >= 1
    assert "later@example.com" not in addresses()
    assert addresses()  # the token's verified address stays


@pytest.mark.parametrize("body", [{"days": -1}, {"days": "soon"}, {"days": "nan"}, {"days": 10_000}, {}])
def test_the_clock_refuses_to_move_back_or_by_nonsense(client: httpx.Client, body: dict[str, Any]) -> None:
    before = client.get("/_local/clock").json()["offset_seconds"]

    refused = client.post("/_local/clock/advance", json=body)

    assert refused.status_code == 400, refused.text
    assert client.get("/_local/clock").json()["offset_seconds"] == before


def test_the_clock_page_has_a_form_that_moves_it(client: httpx.Client) -> None:
    page = client.get("/_local/clock", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'action="/_local/clock/advance"' in page.text

    moved = client.post("/_local/clock/advance", data={"days": "0", "hours": "2"})

    assert moved.status_code == 200
    assert "Moved" in moved.text


def test_make_advance_without_a_running_stack_says_so(tmp_path: Any) -> None:
    result = python_module("local.clock", "advance", "--days", "31", "--state-dir", str(tmp_path))

    assert result.returncode == 1
    assert "no local stack is running" in result.stderr
