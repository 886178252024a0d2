"""Operability through the local stack, over HTTP: a hold left past its release time whose
release fails shows as the overdue metric and the holds-overdue alarm; a route group answering
5xx raises its alarm; one request id follows a request through the access log and the
function's log; the alarms page evaluates every alarm of the template; CORS exposes what a
browser reads."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from local.webapp import web_app_origin
from tests.e2e.conftest import Caller, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

# What the local stack cannot observe: SES's sending metrics, and the queue SAM generates for
# the usage rule's DeadLetterConfig (the local stack does not create it).
NOT_OBSERVABLE_LOCALLY = {
    "EmailBounceRateAlarm",
    "EmailComplaintRateAlarm",
    "SesReputationBounceAlarm",
    "SesReputationComplaintAlarm",
    "UsageQueueAgeAlarm",  # ApproximateAgeOfOldestMessage: SQS measures it, moto does not
    "StripeTaskQueueAgeAlarm",
    "SecurityNoticesDeadLetterAlarm",  # like the usage rule's, a queue SAM makes for the rule
}


def _alarms(api: httpx.Client) -> dict[str, dict[str, Any]]:
    page = api.get("/_local/alarms")
    assert page.status_code == 200, page.text
    return {a["logical_id"]: a for a in page.json()["alarms"]}


def _metric(api: httpx.Client, name: str, **dimensions: str) -> dict[str, Any]:
    listed = api.get("/_local/metrics", params={"name": name}).json()["metrics"]
    [found] = [m for m in listed if all(m["dimensions"].get(k) == v for k, v in dimensions.items())]
    return dict(found)


def _sum_of(api: httpx.Client, name: str) -> float:
    """The sum of a metric the functions emitted so far (0 when none was)."""
    listed = api.get("/_local/metrics", params={"name": name}).json()["metrics"]
    return float(sum(m["sum"] for m in listed))


def _add_card(api: httpx.Client, caller: Caller) -> None:
    headers = {**caller.auth, "Idempotency-Key": str(uuid.uuid4())}
    added = api.post("/v1/billing/payment-methods", json={"payment_method": "pm_card_visa"}, headers=headers)
    assert added.status_code == 201, added.text


def _hold_of(stack: LocalStack, sub: str) -> dict[str, Any]:
    dynamodb = stack.client("dynamodb")
    table = stack.describe()["resources"]["AWS::DynamoDB::Table"]["AccountTable"]
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :hold)",
        ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{sub}"}, ":hold": {"S": "HOLD#"}},
    )["Items"]
    [item] = items
    return {
        "table": table,
        "key": {"PK": item["PK"], "SK": item["SK"]},
        **{k: next(iter(v.values())) for k, v in item.items()},
    }


def _release_time_passed(stack: LocalStack, hold: dict[str, Any], hours: float) -> str:
    """The hold's release time moved `hours` into the past (as if that much time had passed)."""
    release_at = (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stack.client("dynamodb").update_item(
        TableName=hold["table"],
        Key=hold["key"],
        UpdateExpression="SET release_at = :at, GSI1SK = :due",
        ExpressionAttributeValues={":at": {"S": release_at}, ":due": {"S": f"{release_at}#{hold['hold_id']}"}},
    )
    return release_at


@pytest.mark.usefixtures("account")
def test_a_hold_past_its_release_time_whose_release_fails_raises_the_overdue_alarm(
    stack: LocalStack, api: httpx.Client, caller: Caller
) -> None:
    _add_card(api, caller)
    hold = _hold_of(stack, caller.sub)
    _release_time_passed(stack, hold, hours=5)
    simulator = stack.simulated_stripe.simulator  # type: ignore[union-attr]
    fault = simulator.inject("api_error", path=f"/v1/payment_intents/{hold['payment_intent_id']}", times=1000)
    try:
        swept = api.post("/_local/schedules/preauth_release/run")
        assert swept.status_code == 200, swept.text
        assert swept.json()["result"]["queued"] >= 1  # the queue's worker releases it: Stripe fails
        wait_for(lambda: _sum_of(api, "HoldReleaseFailed") >= 1, timeout=30)

        overdue = _metric(api, "OldestDueHoldAgeSeconds")
        assert overdue["namespace"] == f"AccountBilling/{stack.stack_name}"
        assert overdue["dimensions"] == {"service": "account-billing"}
        assert overdue["unit"] == "Seconds"
        assert 5 * 3600 - 60 <= overdue["last"] <= 5 * 3600 + 600
        assert overdue["emitted_by"] == ["PreauthReleaseFunction"]
        assert _metric(api, "HoldReleaseFailed")["sum"] >= 1
        assert _metric(api, "StripeUnavailable")["sum"] >= 1

        alarm = _alarms(api)["HoldsOverdueAlarm"]
        assert alarm["state"] == "ALARM", alarm
        assert alarm["alarm_name"] == f"{stack.stack_name}-holds-overdue"
        assert alarm["threshold"] == 14_400
        assert "ALARM" in {a["state"] for a in json.loads(api.get("/_local/alarms?state=ALARM").text)["alarms"]}
    finally:
        fault.times = 0
    # Stripe answers again: the worker releases it (its message comes again, or the next sweep
    # queues it again), and the sweep after that reports nothing waiting.
    api.post("/_local/schedules/preauth_release/run")
    wait_for(lambda: _sum_of(api, "HoldReleased") >= 1, timeout=60)
    api.post("/_local/schedules/preauth_release/run")
    assert _metric(api, "OldestDueHoldAgeSeconds")["last"] == 0


@pytest.mark.usefixtures("account")
def test_a_route_group_answering_5xx_raises_its_alarm(stack: LocalStack, api: httpx.Client, caller: Caller) -> None:
    simulator = stack.simulated_stripe.simulator  # type: ignore[union-attr]
    fault = simulator.inject("api_error", path="/v1/setup_intents", times=1000)
    try:
        answers = [api.post("/v1/billing/setup-intent", headers=caller.auth).status_code for _ in range(10)]
    finally:
        fault.times = 0

    assert answers == [503] * 10
    errors = _metric(api, "5xx", Route="POST /v1/billing/setup-intent", Stage="$default")
    assert errors["sum"] >= 10
    alarm = _alarms(api)["ApiCardsServerErrorsAlarm"]
    assert alarm["state"] == "ALARM", alarm
    assert alarm["value"] > 1
    assert _alarms(api)["ApiAccountServerErrorsAlarm"]["state"] != "ALARM"


def test_one_request_id_follows_a_request_through_the_access_log_and_the_functions_log(
    api: httpx.Client, caller: Caller, account: httpx.Response
) -> None:
    deleted = api.request("DELETE", "/v1/account", json={"confirm_user_id": caller.user_id}, headers=caller.auth)
    assert deleted.status_code == 204, deleted.text
    request_id = deleted.headers["apigw-requestid"]

    records = api.get("/_local/logs", params={"request_id": request_id}).json()["records"]

    [access] = [r for r in records if r["@log"].endswith("-http-api")]
    assert (access["requestId"], access["routeKey"], access["status"], access["sub"]) == (
        request_id,
        "DELETE /v1/account",
        "204",
        caller.sub,
    )
    assert int(access["integrationLatency"]) <= int(access["responseLatency"])
    logged = [r for r in records if r["@log"].endswith("-profile") and "message" in r]
    assert logged, records
    assert {r["correlation_id"] for r in logged} == {request_id}
    assert "Erasure step done" in {r["message"] for r in logged}
    assert caller.token not in json.dumps(records)  # never a token, in either log


def test_the_alarms_page_evaluates_every_alarm_of_the_template_or_says_why_not(
    stack: LocalStack, api: httpx.Client, caller: Caller
) -> None:
    api.get("/v1/account", headers=caller.auth)  # a request: API and Lambda metrics to evaluate

    alarms = _alarms(api)

    template_alarms = {n for n, r in stack.template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(alarms) == template_alarms
    assert {a["state"] for a in alarms.values()} <= {"OK", "ALARM", "INSUFFICIENT_DATA", "NOT_EVALUATED"}
    assert {n for n, a in alarms.items() if a["state"] == "NOT_EVALUATED"} == NOT_OBSERVABLE_LOCALLY
    assert all(a["reason"] for a in alarms.values())
    listed = api.get("/_local/metrics", params={"namespace": "AWS/ApiGateway", "name": "Count"}).json()["metrics"]
    assert "GET /v1/account" in {m["dimensions"].get("Route") for m in listed}
    invocations = api.get("/_local/metrics", params={"namespace": "AWS/Lambda", "name": "Invocations"}).json()
    assert f"{stack.stack_name}-ProfileFunction" in {m["dimensions"]["FunctionName"] for m in invocations["metrics"]}


def test_cors_lets_a_browser_read_etag_retry_after_and_location(
    stack: LocalStack, api: httpx.Client, caller: Caller
) -> None:
    answer = api.get("/v1/account", headers={**caller.auth, "Origin": web_app_origin(stack.port)})

    exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "retry-after", "location"} <= exposed
