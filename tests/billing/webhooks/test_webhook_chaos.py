"""Stripe's webhook under chaos: duplicates, out-of-order pairs, bad signatures, stale
timestamps, replays, unknown types, failures midway. Afterwards the mirror equals Stripe's state."""

from __future__ import annotations

import copy
import json
import random
import time
from typing import Any

import pytest

from tests.support import table
from tests.support.lifecycle import Billing, Lifecycle, mirror_of, mirrored, mirrored_invoices, profile_plan

pytestmark = pytest.mark.usefixtures("lifecycle")


def _busy_account(life: Lifecycle) -> Billing:
    """An account whose Stripe history has many events: subscribe, upgrade, downgrade, renew."""
    ada = Billing("user-ada").with_card()
    ada.change("developer")
    life.advance(5)
    ada.change("essential")
    ada.change("developer")  # a downgrade, scheduled
    life.advance(30)
    return ada


def _events(life: Lifecycle) -> list[dict[str, Any]]:
    return sorted(life.sim.events(), key=lambda e: life.sim.sequence(e["id"]))


def _assert_mirror_equals_stripe(life: Lifecycle, sub: str) -> None:
    stripe_sub = life.subscription(sub)
    record = mirrored(sub)
    assert record is not None
    assert (record["subscription_id"], record["status"], record["price_id"]) == (
        stripe_sub["id"],
        stripe_sub["status"],
        stripe_sub["items"]["data"][0]["price"]["id"],
    )
    assert record["period_end"] == stripe_sub["items"]["data"][0]["current_period_end"]
    assert record["cancel_at_period_end"] == stripe_sub["cancel_at_period_end"]
    customer = stripe_sub["customer"]
    expected = {
        i["id"]: (i["status"], i["amount_paid"], i["number"])
        for i in life.sim.all("invoice")
        if i["customer"] == customer
    }
    got = {k: (v["status"], v["amount_paid"], v.get("number")) for k, v in mirrored_invoices(sub).items()}
    assert got == expected
    assert profile_plan(sub) == record["plan"]


def test_shuffled_duplicated_deliveries_leave_the_mirror_equal_to_stripe(lifecycle: Lifecycle) -> None:
    _busy_account(lifecycle)
    lifecycle.sim.webhooks._pending.clear()  # deliver by hand instead: shuffled, twice each
    table.all_items()  # (the mirror already has what the API calls stored)
    for item in table.all_items():
        if item["SK"] == "SUBSCRIPTION" or item["SK"].startswith(("INVOICE", "STRIPE_EVENT")):
            table_delete(item)
    events = _events(lifecycle) * 2
    random.Random(7).shuffle(events)

    statuses = [lifecycle.signed(e)[0] for e in events]

    assert set(statuses) == {200}
    _assert_mirror_equals_stripe(lifecycle, "user-ada")


def table_delete(item: dict[str, Any]) -> None:
    import os  # noqa: PLC0415

    import boto3  # noqa: PLC0415

    boto3.client("dynamodb").delete_item(
        TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}}
    )


def test_an_older_event_delivered_last_does_not_overwrite_newer_state(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    ada.change("developer")
    ada.change("community")  # cancel at the period end
    created = next(e for e in _events(lifecycle) if e["type"] == "customer.subscription.created")
    lifecycle.deliver()
    assert mirror_of("user-ada")["cancel_at_period_end"] is True

    # The creation event (which showed no cancellation) arrives again, late.
    assert lifecycle.signed(created)[0] == 200

    assert mirror_of("user-ada")["cancel_at_period_end"] is True
    assert ada.subscription()[2]["scheduled_change"]["kind"] == "cancellation"


def test_a_duplicate_is_applied_once(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    ada.change("developer")
    paid = next(e for e in _events(lifecycle) if e["type"] == "invoice.paid")

    first = lifecycle.signed(paid)
    again = lifecycle.signed(paid)

    assert (first[0], first[2]["outcome"]) == (200, "processed")
    assert (again[0], again[2]["outcome"]) == (200, "duplicate")
    marker = table.existing(f"STRIPE_EVENT#{paid['id']}", "STRIPE_EVENT")
    assert marker["state"] == "done"
    assert marker["expires_at"] > time.time() + 29 * 86400  # removed by DynamoDB's TTL later


def test_bad_signatures_and_stale_timestamps_are_refused_and_change_nothing(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    ada.change("developer")
    lifecycle.sim.webhooks._pending.clear()
    paid = next(e for e in _events(lifecycle) if e["type"] == "invoice.paid")
    before = table.all_items()

    forged = copy.deepcopy(paid)
    forged["data"]["object"]["amount_paid"] = 1
    answers = [
        lifecycle.signed(paid, secret="whsec_someone_else"),
        lifecycle.signed(paid, timestamp=int(time.time()) - 3600),  # a replay of an old delivery
    ]
    from stripe_simulator.webhooks import sign  # noqa: PLC0415
    from tests.support.lifecycle import post_event  # noqa: PLC0415

    genuine = sign(json.dumps(paid), lifecycle.endpoint.secret)
    answers.append(post_event(json.dumps(forged), genuine))  # a body changed after signing

    answers.append(post_event('{"id": "evt_x"}', None))
    answers.append(post_event('{"id": "evt_x"}', "t=1,v1=deadbeef"))

    assert [a[0] for a in answers] == [400] * 5
    assert answers[0][2]["type"].endswith("invalid-signature")
    assert table.all_items() == before


def test_a_delivery_signed_for_the_future_is_refused_and_changes_nothing(lifecycle: Lifecycle) -> None:
    # (found: stripe-python bounds only old timestamps; one signed an hour ahead was applied)
    ada = Billing("user-ada").with_card()
    ada.change("developer")
    lifecycle.sim.webhooks._pending.clear()
    paid = next(e for e in _events(lifecycle) if e["type"] == "invoice.paid")
    before = table.all_items()

    status, _, body = lifecycle.signed(paid, timestamp=int(time.time()) + 3600)

    assert (status, body["type"].rsplit(":", 1)[-1]) == (400, "invalid-signature")
    assert table.all_items() == before


def test_a_delivery_signed_by_a_clock_a_little_ahead_is_applied(lifecycle: Lifecycle) -> None:
    # Stripe's clock and ours differ by seconds, not by more than the tolerance
    ada = Billing("user-ada").with_card()
    ada.change("developer")
    lifecycle.sim.webhooks._pending.clear()
    paid = next(e for e in _events(lifecycle) if e["type"] == "invoice.paid")

    status, _, body = lifecycle.signed(paid, timestamp=int(time.time()) + 60)

    assert (status, body["outcome"]) == (200, "processed")


def test_unknown_types_are_acknowledged_and_ignored(lifecycle: Lifecycle) -> None:
    event = {
        "id": "evt_unknown_1",
        "object": "event",
        "type": "climate.order.delivered",
        "created": int(time.time()),
        "data": {"object": {"id": "climorder_1", "object": "climate.order"}},
    }
    before = len(table.all_items())

    status, _, body = lifecycle.signed(event)

    assert (status, body["outcome"]) == (200, "ignored")
    assert len(table.all_items()) == before + 1  # only the event's marker


def test_a_failure_answers_5xx_and_the_next_delivery_applies_it(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    ada.change("developer")
    lifecycle.sim.webhooks._pending.clear()
    paid = next(e for e in _events(lifecycle) if e["type"] == "invoice.paid")
    invoice_id = paid["data"]["object"]["id"]
    assert mirrored_invoices("user-ada") == {}
    lifecycle.sim.inject("api_error", method="GET", path="/v1/invoices", times=5)

    status, _, _ = lifecycle.signed(paid)
    assert status >= 500
    assert mirrored_invoices("user-ada") == {}
    assert table.item(f"STRIPE_EVENT#{paid['id']}", "STRIPE_EVENT") is None  # the retry is not a duplicate

    status, _, body = lifecycle.signed(paid)
    assert (status, body["outcome"]) == (200, "processed")
    assert mirrored_invoices("user-ada")[invoice_id]["status"] == "paid"


def test_events_of_a_deleted_account_recreate_nothing(lifecycle: Lifecycle) -> None:
    from tests.support.profile import ProfileClient  # noqa: PLC0415

    ada = Billing("user-ada").with_card()
    ada.change("developer")
    lifecycle.sim.webhooks._pending.clear()
    history = _events(lifecycle)
    assert ProfileClient("user-ada").delete("user_ada")[0] in (202, 204)
    remaining = {(i["PK"], i["SK"]) for i in table.all_items()}

    statuses = [lifecycle.signed(e)[0] for e in history]

    assert set(statuses) == {200}
    new = {(i["PK"], i["SK"]) for i in table.all_items()} - remaining
    assert all(pk.startswith("STRIPE_EVENT#") for pk, _ in new)


def test_a_customer_deleted_at_stripe_puts_the_account_back_on_community(lifecycle: Lifecycle) -> None:
    import stripe  # noqa: PLC0415

    ada = Billing("user-ada").with_card()
    ada.change("developer")
    lifecycle.deliver()
    customer = lifecycle.subscription("user-ada")["customer"]
    stripe.StripeClient("sk_test_x", http_client=lifecycle.sim.http_client()).v1.customers.delete(customer)
    lifecycle.deliver()

    profile = table.existing("ACCOUNT#user-ada", "PROFILE")
    assert profile["plan"] == "community"
    assert "stripe_customer_id" not in profile
    assert mirrored("user-ada") is None
    assert ada.subscription()[2]["plan"] == "community"
    assert ("customer.deleted", 200) in [(t, s) for t, s, _ in lifecycle.answers]


def test_a_card_detached_at_stripe_leaves_the_account(lifecycle: Lifecycle) -> None:
    import stripe  # noqa: PLC0415

    ada = Billing("user-ada").with_card()
    second = ada.add("pm_card_mastercard")[2]["payment_method"]["id"]
    first = next(c["id"] for c in ada.list()[2]["payment_methods"] if c["default"])
    lifecycle.deliver()
    client = stripe.StripeClient("sk_test_x", http_client=lifecycle.sim.http_client())

    client.v1.payment_methods.detach(first)  # e.g. from Stripe's Dashboard
    lifecycle.deliver()

    [left] = ada.list()[2]["payment_methods"]
    assert (left["id"], left["default"]) == (second, True)
    assert ("payment_method.detached", 200) in [(t, s) for t, s, _ in lifecycle.answers]


def test_the_only_card_of_a_paid_plan_stays_listed_when_detached_at_stripe(lifecycle: Lifecycle) -> None:
    import stripe  # noqa: PLC0415

    ada = Billing("user-ada").with_card()
    ada.change("developer")
    [card] = ada.list()[2]["payment_methods"]
    lifecycle.deliver()

    stripe.StripeClient("sk_test_x", http_client=lifecycle.sim.http_client()).v1.payment_methods.detach(card["id"])
    lifecycle.deliver()

    assert [c["id"] for c in ada.list()[2]["payment_methods"]] == [card["id"]]
    assert [a[2]["outcome"] for a in lifecycle.answers if a[0] == "payment_method.detached"] == ["ignored"]


def test_an_abandoned_3d_secure_hold_cancelled_at_stripe_fails_the_card(lifecycle: Lifecycle) -> None:
    import stripe  # noqa: PLC0415

    cy = Billing("user-cy")
    cy.create_account("cy_lovelace")
    assert cy.add("pm_card_threeDSecureRequired")[0] == 202
    intent = lifecycle.sim.all("payment_intent")[0]["id"]
    stripe.StripeClient("sk_test_x", http_client=lifecycle.sim.http_client()).v1.payment_intents.cancel(
        intent, {"cancellation_reason": "abandoned"}
    )
    lifecycle.deliver()

    [card] = cy.list()[2]["payment_methods"]
    assert (card["verification"], card["default"]) == ("failed", False)
