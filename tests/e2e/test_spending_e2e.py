"""Spending through the local stack: a UsageRecorded event put on the template's usage bus reaches
the usage recorder through its EventBridge rule, and the spending route shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Caller, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.mark.usefixtures("account")
def test_usage_on_the_bus_shows_in_month_to_date_spending(stack: LocalStack, api: httpx.Client, caller: Caller) -> None:
    before = api.get("/v1/billing/spending", headers=caller.auth)
    assert before.status_code == 200, before.text
    assert before.json()["spent_cents"] == 0
    bus = stack.describe()["resources"]["AWS::Events::EventBus"]["UsageEventBus"]
    usage = {"account": caller.sub, "amount_cents": 1250, "idempotency_id": "e2e-usage-1"}
    entry = {"EventBusName": bus, "Source": "e2e-inference", "DetailType": "UsageRecorded", "Detail": json.dumps(usage)}
    stack.client("events").put_events(Entries=[entry, entry])  # delivered twice: counted once

    def spent() -> int | None:
        value = int(api.get("/v1/billing/spending", headers=caller.auth).json()["spent_cents"])
        return value or None

    assert wait_for(spent) == 1250
    view = api.get("/v1/billing/spending", headers=caller.auth).json()
    assert view["month"] == datetime.now(UTC).strftime("%Y-%m")
    # a new account is on the free plan: any spend reaches its limit
    assert (view["plan"], view["limit_cents"], view["reached"]) == ("community", 0, True)

    asked = api.post(
        "/v1/billing/spending-limit-requests", json={"amount_cents": 50_000, "reason": "Launch"}, headers=caller.auth
    )
    assert asked.status_code == 201, asked.text
    listed = api.get("/v1/billing/spending-limit-requests", headers=caller.auth).json()
    assert [r["id"] for r in listed["requests"]] == [asked.json()["id"]]
