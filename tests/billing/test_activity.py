"""Card and hold changes in the activity log, by the user, by Stripe's webhooks and by the release
schedules; a webhook event delivered again writes nothing new."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.activity.support import entries
from tests.support.billing import Cards
from tests.support.lifecycle import Billing, Lifecycle


def test_cards_added_declined_and_removed_are_logged_with_brand_and_last4_only(billing: dict[str, Any]) -> None:
    ada = Cards("user-ada")
    assert ada.create_account("ada")[0] == 201
    status, _, added = ada.add("pm_card_visa")
    assert status == 201
    assert ada.add("pm_card_chargeDeclined")[0] == 402
    assert ada.remove(added["payment_method"]["id"])[0] == 204

    log = entries("user-ada")

    kinds = [e["kind"] for e in log]
    # newest first; the entries of one request share its time (the card and its hold, in any
    # order): removing the card released its hold at once
    assert sorted(kinds[:2]) == ["card.removed", "hold.released"]
    assert kinds[2] == "card.declined"
    assert sorted(kinds[3:5]) == ["card.added", "hold.placed"]
    assert kinds[5:] == ["account.created"]
    [removed] = [e for e in log if e["kind"] == "card.removed"]
    assert (removed["details"]["last4"], removed["details"]["brand"]) == ("4242", "visa")
    assert log[2]["details"]["decline_code"] == "generic_decline"
    [held] = [e for e in log if e["kind"] == "hold.placed"]
    assert held["details"]["amount"].isdigit()
    stored = json.dumps(log)
    assert "fingerprint" not in stored
    assert "secret" not in stored
    # the release, brought forward by the removal, is the hold's one release entry (`holds.release`)
    assert {e["kind"]: e["actor"] for e in log}["hold.released"] == "schedule"
    assert {e["actor"] for e in log if e["kind"] != "hold.released"} == {"user"}


def _capture_deliveries(lifecycle: Lifecycle) -> list[bytes]:
    bodies: list[bytes] = []
    receive = lifecycle.receive

    def keep(body: bytes, headers: dict[str, str]) -> int:
        bodies.append(body)
        return receive(body, headers)

    lifecycle.endpoint.deliver = keep
    return bodies


def test_a_webhook_change_is_logged_once_however_often_the_event_arrives(
    lifecycle: Lifecycle, aws: dict[str, str]
) -> None:
    import stripe  # noqa: PLC0415

    ada = Billing("user-ada").with_card()
    second = ada.add("pm_card_mastercard")[2]["payment_method"]["id"]
    first = next(c["id"] for c in ada.list()[2]["payment_methods"] if c["default"])
    lifecycle.deliver()
    bodies = _capture_deliveries(lifecycle)

    # Given a card detached at Stripe, whose event the webhook applies
    stripe.StripeClient("sk_test_x", http_client=lifecycle.sim.http_client()).v1.payment_methods.detach(first)
    lifecycle.deliver()
    [detached] = [json.loads(b) for b in bodies if json.loads(b)["type"] == "payment_method.detached"]

    # When Stripe delivers it again, and again after its de-duplication marker is gone (as if the
    # first delivery had stopped before marking it done)
    assert lifecycle.signed(detached)[2]["outcome"] == "duplicate"
    boto3.client("dynamodb").delete_item(
        TableName=aws["AccountTable"],
        Key={"PK": {"S": f"STRIPE_EVENT#{detached['id']}"}, "SK": {"S": "EVENT"}},
    )
    assert lifecycle.signed(detached)[0] == 200

    # Then the log holds one removal, Stripe's, and the other card remains
    removals = [e for e in entries("user-ada") if e["kind"] == "card.removed"]
    assert [(e["actor"], e["details"]["payment_method"]) for e in removals] == [("stripe", first)]
    assert removals[0]["source_ip"] is None
    assert [c["id"] for c in ada.list()[2]["payment_methods"]] == [second]


@pytest.mark.usefixtures("billing")
def test_the_same_operation_recorded_twice_is_one_entry() -> None:
    from account_billing.activity.records import ActivityKind  # noqa: PLC0415
    from account_billing.activity.service import ActivityLog  # noqa: PLC0415
    from account_billing.core.origin import Actor, Origin, acting  # noqa: PLC0415
    from tests.support.billing import new_table  # noqa: PLC0415

    log = ActivityLog.of(new_table())
    origin = Origin(actor=Actor.STRIPE, operation="stripe:evt_1", at="2026-12-01T10:00:00.000Z")

    with acting(origin):
        first = log.record("user-ada", ActivityKind.CARD_VERIFIED, "pm_1", payment_method="pm_1")
        again = log.record("user-ada", ActivityKind.CARD_VERIFIED, "pm_1", payment_method="pm_1")
        other = log.record("user-ada", ActivityKind.HOLD_PLACED, "hold_1", hold="hold_1")

    assert (first, again, other) == (True, False, True)
    assert len(entries("user-ada")) == 2


def test_secrets_and_card_numbers_cannot_enter_the_log() -> None:
    from account_billing.activity.records import ActivityEntry, ActivityKind  # noqa: PLC0415
    from account_billing.core.origin import Actor, Origin  # noqa: PLC0415

    origin = Origin(actor=Actor.USER, operation="request:1", at="2026-12-01T10:00:00.000Z")
    for detail in ({"number": "4242424242424242"}, {"client_secret": "pi_x_secret_y"}, {"token": "t"}):
        with pytest.raises(ValueError, match="not an activity detail"):
            ActivityEntry.of("user-ada", ActivityKind.CARD_ADDED, origin, expires_at=0, subject="", details=detail)


@pytest.mark.usefixtures("billing")
def test_a_hold_released_by_its_schedule_is_logged_once_as_the_schedules_doing() -> None:
    from tests.support.billing import holds, invoke_release, schedules  # noqa: PLC0415

    ada = Cards("user-ada")
    assert ada.create_account("ada")[0] == 201
    assert ada.add("pm_card_visa")[0] == 201
    [schedule] = schedules()
    [hold] = holds("user-ada")

    assert invoke_release(json.loads(schedule["Target"]["Input"]))["result"] == "released"
    assert invoke_release(json.loads(schedule["Target"]["Input"]))["result"] == "skipped"  # delivered again

    [released] = [e for e in entries("user-ada") if e["kind"] == "hold.released"]
    assert released["actor"] == "schedule"
    assert released["details"]["hold"] == hold["hold_id"]
    assert released["details"]["outcome"] == "canceled"


@pytest.mark.usefixtures("billing")
def test_adding_and_removing_a_card_publish_their_notices_once() -> None:
    from account_billing.core.wiring import providing  # noqa: PLC0415
    from account_billing.notices.publisher import Publish, notice_publisher  # noqa: PLC0415

    published: list[dict[str, Any]] = []
    publish: Publish | None = published.append
    with providing(notice_publisher, publish):
        ada = Cards("user-ada")
        assert ada.create_account("ada")[0] == 201
        status, _, added = ada.add("pm_card_visa")
        assert status == 201
        assert ada.add("pm_card_chargeDeclined")[0] == 402
        assert ada.remove(added["payment_method"]["id"])[0] == 204

    assert [(d["kind"], d["details"]["last4"]) for d in published] == [("card.added", "4242"), ("card.removed", "4242")]
