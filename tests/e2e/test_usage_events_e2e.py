"""Usage published by hand through the local stack (`make usage`, the events page's form) reaches
the usage recorder, and `/_local/events` shows every event on the stack's buses: the usage, and
the SpendingLimitReached it causes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Caller, python_module, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _events_of(api: httpx.Client, sub: str, detail_type: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.get("/_local/events").json()["events"]
    return [e for e in events if e["detail-type"] == detail_type and e["detail"].get("account") == sub]


@pytest.mark.usefixtures("account")
def test_usage_over_the_limit_shows_spending_limit_reached(api: httpx.Client, caller: Caller) -> None:
    published = api.post("/_local/usage", json={"account": caller.sub, "cents": 1250})

    assert published.status_code == 202, published.text
    assert (
        wait_for(lambda: _events_of(api, caller.sub, "UsageRecorded"), timeout=60)[0]["detail"]["amount_cents"] == 1250
    )
    reached = wait_for(
        lambda: _events_of(api, caller.sub, "SpendingLimitReached"), timeout=60
    )  # community: no spending
    assert len(reached) == 1
    spending = api.get("/v1/billing/spending", headers=caller.auth).json()
    assert (spending["spent_cents"], spending["reached"]) == (1250, True)


@pytest.mark.usefixtures("account")
def test_the_events_page_form_publishes_usage(api: httpx.Client, caller: Caller) -> None:
    page = api.get("/_local/events", headers={"Accept": "text/html"})
    assert 'action="/_local/usage"' in page.text

    posted = api.post("/_local/usage", data={"account": caller.sub, "cents": "300"})

    assert (posted.status_code, posted.headers["location"]) == (303, "/_local/events")
    assert wait_for(lambda: _events_of(api, caller.sub, "UsageRecorded"), timeout=60)
    assert caller.sub in api.get("/_local/events", headers={"Accept": "text/html"}).text


@pytest.mark.parametrize("cents", [-5, "1.5", "", 1_000_000_001])
def test_bad_usage_is_refused_and_publishes_nothing(api: httpx.Client, caller: Caller, cents: Any) -> None:
    refused = api.post("/_local/usage", json={"account": caller.sub, "cents": cents})

    assert refused.status_code == 400, refused.text
    published = api.post("/_local/usage", json={"account": f"{caller.sub}-marker", "cents": 1})  # one that counts
    assert published.status_code == 202
    wait_for(lambda: _events_of(api, f"{caller.sub}-marker", "UsageRecorded"), timeout=60)
    assert _events_of(api, caller.sub, "UsageRecorded") == []


def test_usage_needs_an_account(api: httpx.Client) -> None:
    assert api.post("/_local/usage", json={"account": " ", "cents": 1}).status_code == 400


def test_make_usage_without_a_running_stack_says_so(tmp_path: Any) -> None:
    result = python_module("local.events", "alice", "1250", "--state-dir", str(tmp_path))

    assert result.returncode == 1
    assert "no local stack is running" in result.stderr


@pytest.mark.usefixtures("account")
def test_make_usage_publishes_for_the_running_stack(stack: LocalStack, api: httpx.Client, caller: Caller) -> None:
    result = python_module("local.events", caller.sub, "400", "--url", stack.base_url)

    assert result.returncode == 0, result.stderr
    recorded = wait_for(lambda: _events_of(api, caller.sub, "UsageRecorded"), timeout=60)
    assert [e["detail"]["amount_cents"] for e in recorded] == [400]
