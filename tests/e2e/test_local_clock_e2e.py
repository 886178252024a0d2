"""The local clock over HTTP: moving it a month renews a subscription (the renewal invoice arrives
through Stripe's signed webhook, its statement downloads), makes a scheduled downgrade or
cancellation take effect, takes a renewal that fails on its card to `past_due`, releases a card's
hold at its schedule's time (or, when that schedule is missed, lets Stripe expire the authorization
after seven days), and lets DynamoDB TTL take an address left unverified. Each outcome is read
back through the API. Its own stack: moving time would disturb the other tests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from local.config import SIMULATOR_KEY
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


def _add_card(client: httpx.Client, auth: dict[str, str], card: str = "pm_card_visa") -> dict[str, Any]:
    added = client.post(
        "/v1/billing/payment-methods",
        json={"payment_method": card},
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert added.status_code == 201, added.text
    body: dict[str, Any] = added.json()
    return body


def _put_plan(client: httpx.Client, auth: dict[str, str], plan: str) -> dict[str, Any]:
    moved = client.put(
        "/v1/billing/subscription", json={"plan": plan}, headers={**auth, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert moved.status_code == 200, moved.text
    body: dict[str, Any] = moved.json()
    return body


def _subscription(client: httpx.Client, auth: dict[str, str]) -> dict[str, Any]:
    response = client.get("/v1/billing/subscription", headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _subscribed(stack: LocalStack, client: httpx.Client, plan: str) -> dict[str, str]:
    """A new account on `plan`, paid with a good card, its first invoice mirrored."""
    auth = _new_account(stack, client)
    _add_card(client, auth)
    _put_plan(client, auth, plan)
    wait_for(lambda: _invoices(client, auth), timeout=60)
    return auth


def _stripe(stack: LocalStack) -> stripe.StripeClient:
    """Stripe's API as a developer reaches it in test mode (the Dashboard, the Stripe CLI): here
    the offline simulator the stack serves, over HTTP."""
    assert stack.simulated_stripe is not None
    return stripe.StripeClient(SIMULATOR_KEY, base_addresses={"api": stack.simulated_stripe.api_base})


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
    statement = client.get(f"/v1/billing/invoices/{renewed['id']}/pdf", headers=auth, follow_redirects=True)
    assert (statement.status_code, statement.headers["content-type"]) == (200, "application/pdf")
    assert statement.content.startswith(b"%PDF-")
    assert (renewed["number"] or "").encode() in statement.content

    def next_period() -> str | None:
        current = client.get("/v1/billing/subscription", headers=auth).json()["current_period_end"]
        return current if current != period_end else None

    assert wait_for(next_period, timeout=60) > period_end
    listed = client.get("/v1/billing/payment-methods", headers=auth).json()["payment_methods"]
    assert listed[0]["hold"]["status"] == "released"


def test_a_scheduled_downgrade_takes_effect_at_the_period_end(timed_stack: LocalStack, client: httpx.Client) -> None:
    auth = _subscribed(timed_stack, client, "essential")
    scheduled = _put_plan(client, auth, "developer")
    assert (scheduled["plan"], scheduled["scheduled_change"]["kind"]) == ("essential", "downgrade")
    plans = {p["key"]: p["monthly_price"] for p in client.get("/v1/plans").json()["plans"]}

    client.post("/_local/clock/advance", json={"days": 31})

    def downgraded() -> dict[str, Any] | None:
        current = _subscription(client, auth)
        return current if current["plan"] == "developer" else None

    now = wait_for(downgraded, timeout=60)
    assert (now["status"], now["scheduled_change"]) == ("active", None)
    assert client.get("/v1/account", headers=auth).json()["plan"]["key"] == "developer"
    renewal = wait_for(
        lambda: next((i for i in _invoices(client, auth) if i["billing_reason"] == "subscription_cycle"), None),
        timeout=60,
    )
    assert (renewal["status"], renewal["amount_paid"]) == ("paid", plans["developer"])  # the new plan's price


def test_a_cancellation_takes_effect_at_the_period_end(timed_stack: LocalStack, client: httpx.Client) -> None:
    auth = _subscribed(timed_stack, client, "developer")
    cancelled = _put_plan(client, auth, "community")
    assert (cancelled["plan"], cancelled["scheduled_change"]["kind"]) == ("developer", "cancellation")

    client.post("/_local/clock/advance", json={"days": 31})

    def ended() -> dict[str, Any] | None:
        current = _subscription(client, auth)
        return current if current["plan"] == "community" else None

    now = wait_for(ended, timeout=60)
    assert (now["status"], now["scheduled_change"], now["current_period_end"]) == ("canceled", None, None)
    assert client.get("/v1/account", headers=auth).json()["plan"]["key"] == "community"
    assert [i["billing_reason"] for i in _invoices(client, auth)] == ["subscription_create"]  # no renewal


def test_a_renewal_the_card_declines_leaves_the_subscription_past_due(
    timed_stack: LocalStack, client: httpx.Client
) -> None:
    auth = _subscribed(timed_stack, client, "developer")
    first = _invoices(client, auth)[0]
    # As Stripe's docs suggest for testing a failed renewal: in test mode (the Dashboard, the
    # Stripe CLI), charge the subscription to a card that attaches but declines every charge.
    stripe_api = _stripe(timed_stack)
    invoice = stripe_api.v1.invoices.retrieve(first["id"]).to_dict()
    subscription_id = str(invoice["parent"]["subscription_details"]["subscription"])
    failing = stripe_api.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": str(invoice["customer"])})
    stripe_api.v1.subscriptions.update(subscription_id, {"default_payment_method": failing.id})

    moved = client.post("/_local/clock/advance", json={"days": 31})
    assert moved.status_code == 200, moved.text

    def past_due() -> dict[str, Any] | None:
        current = _subscription(client, auth)
        return current if current["status"] == "past_due" and current["amount_due"] else None

    now = wait_for(past_due, timeout=60)
    renewal = wait_for(
        lambda: next((i for i in _invoices(client, auth) if i["billing_reason"] == "subscription_cycle"), None),
        timeout=60,
    )
    assert (renewal["status"], renewal["amount_paid"], renewal["amount_remaining"]) == ("open", 0, first["amount_paid"])
    assert (now["plan"], now["due_invoice_id"], now["amount_due"]) == ("developer", renewal["id"], first["amount_paid"])
    assert timed_stack.simulated_stripe is not None
    failed = timed_stack.simulated_stripe.simulator.events("invoice.payment_failed")
    assert renewal["id"] in [event["data"]["object"]["id"] for event in failed]


def test_an_authorization_left_uncaptured_for_seven_days_expires(timed_stack: LocalStack, client: httpx.Client) -> None:
    auth = _new_account(timed_stack, client)
    hold = _add_card(client, auth)["hold"]
    assert hold["status"] == "held"
    # The hold's release schedule is missed (deleted here), so nothing releases it in time.
    scheduler = timed_stack.client("scheduler")
    [schedule] = [
        s
        for group in scheduler.list_schedule_groups()["ScheduleGroups"]
        for s in scheduler.list_schedules(GroupName=group["Name"])["Schedules"]
        if s["Name"] == f"release-{hold['id']}"
    ]
    scheduler.delete_schedule(Name=schedule["Name"], GroupName=schedule["GroupName"])

    moved = client.post("/_local/clock/advance", json={"days": 8})
    assert moved.status_code == 200, moved.text
    assert not any(hold["id"] in name for name in moved.json()["schedules_fired"])

    def expired() -> dict[str, Any] | None:
        card = client.get("/v1/billing/payment-methods", headers=auth).json()["payment_methods"][0]
        return card if card["hold"]["status"] == "released" else None

    card = wait_for(expired, timeout=60)
    assert card["hold"]["outcome"] == "expired"  # Stripe let it go: nothing was voided by the service
    assert timed_stack.simulated_stripe is not None
    intent_events = timed_stack.simulated_stripe.simulator.events("payment_intent.canceled")
    reasons = [
        e["data"]["object"]["cancellation_reason"]
        for e in intent_events
        if e["data"]["object"]["metadata"].get("hold_id") == hold["id"]
    ]
    assert reasons == ["automatic"]


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


def test_make_advance_moves_the_running_stacks_clock(timed_stack: LocalStack, client: httpx.Client) -> None:
    before = client.get("/_local/clock").json()["offset_seconds"]

    result = python_module("local.clock", "advance", "--hours", "3", "--url", timed_stack.base_url)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["advanced_seconds"] == 3 * 3600
    assert client.get("/_local/clock").json()["offset_seconds"] - before == pytest.approx(3 * 3600, abs=5)


def test_make_advance_without_a_running_stack_says_so(tmp_path: Any) -> None:
    result = python_module("local.clock", "advance", "--days", "31", "--state-dir", str(tmp_path))

    assert result.returncode == 1
    assert "no local stack is running" in result.stderr
