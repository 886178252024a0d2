"""The simulator's subscriptions, schedules and invoices, through stripe-python, as Stripe's
documentation describes them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import stripe

from stripe_simulator import Simulator
from stripe_simulator.resources.subscription_changes import add_month
from tests.support.stripe import START, stripe_object


def _customer(client: stripe.StripeClient, card: str = "pm_card_visa") -> str:
    customer = client.v1.customers.create({"metadata": {"account": "a"}}).id
    pm = client.v1.payment_methods.attach(card, {"customer": customer}).id
    client.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": pm}})
    return customer


def _subscribe(client: stripe.StripeClient, customer: str, price: str = "price_small") -> Any:
    return client.v1.subscriptions.create(
        {"customer": customer, "items": [{"price": price}], "payment_behavior": "error_if_incomplete"}
    )


def test_months_keep_the_anchor_day() -> None:
    jan31 = 1_769_860_800  # 2026-01-31T12:00:00Z
    feb = add_month(jan31)
    assert add_month(feb, jan31) - feb == 31 * 86400  # Feb 28 → Mar 31


def test_a_declined_first_invoice_creates_nothing_with_error_if_incomplete(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    customer = _customer(client, "pm_card_chargeCustomerFail")
    with pytest.raises(stripe.CardError):
        _subscribe(client, customer)
    assert sim.all("subscription") == []
    assert sim.all("invoice") == []


def test_an_upgrade_prorates_the_rest_of_the_period(client: stripe.StripeClient, sim: Simulator) -> None:
    sub = _subscribe(client, _customer(client))
    item = sub["items"].data[0]
    start, end = item.current_period_start, item.current_period_end
    sim.advance(timedelta(days=10))

    updated = client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "price": "price_large"}], "proration_behavior": "always_invoice"}
    )

    invoice = client.v1.invoices.retrieve(str(updated.latest_invoice))
    fraction = (end - (START + 10 * 86400)) / (end - start)
    assert invoice.amount_paid == round(4000 * fraction) - round(1000 * fraction)
    assert [line.amount < 0 for line in invoice.lines.data] == [True, False]
    assert invoice.status == "paid"
    assert (invoice.number or "").endswith("-0002")


def test_a_schedule_changes_the_price_at_the_period_end_and_release_undoes_it(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    sub = _subscribe(client, _customer(client), "price_large")
    schedule = client.v1.subscription_schedules.create({"from_subscription": sub.id})
    phase = schedule.phases[0]
    client.v1.subscription_schedules.update(
        schedule.id,
        {
            "phases": [
                {"items": [{"price": "price_large"}], "start_date": phase.start_date, "end_date": phase.end_date},
                {"items": [{"price": "price_small"}], "duration": {"interval": "month", "interval_count": 1}},
            ]
        },
    )
    with pytest.raises(stripe.InvalidRequestError):  # a scheduled subscription's items are the schedule's
        client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    sim.advance(timedelta(days=32))
    renewed = client.v1.subscriptions.retrieve(sub.id)
    assert renewed["items"].data[0].price.id == "price_small"
    latest = client.v1.invoices.retrieve(str(renewed.latest_invoice))
    assert (latest.billing_reason, latest.amount_paid) == ("subscription_cycle", 1000)

    released = client.v1.subscription_schedules.release(schedule.id)
    assert released.status == "released"
    assert client.v1.subscriptions.retrieve(sub.id).schedule is None


def test_cancel_at_period_end_ends_it_then(client: stripe.StripeClient, sim: Simulator) -> None:
    sub = _subscribe(client, _customer(client))
    client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    sim.advance(timedelta(days=31))
    sim.tick()

    assert stripe_object(sim, sub.id, "subscription")["status"] == "canceled"
    assert sim.events("customer.subscription.deleted")
    assert len(sim.all("invoice")) == 1  # no renewal


def test_the_preview_of_an_upgrade_and_of_the_renewal(client: stripe.StripeClient, sim: Simulator) -> None:
    customer = _customer(client)
    first = client.v1.invoices.create_preview(
        {"customer": customer, "subscription_details": {"items": [{"price": "price_large"}]}}
    )
    assert first.amount_due == 4000
    sub = _subscribe(client, customer)
    item = sub["items"].data[0].id
    details: Any = {"items": [{"id": item, "price": "price_large"}], "proration_behavior": "none"}

    renewal = client.v1.invoices.create_preview(
        {"customer": customer, "subscription": sub.id, "subscription_details": details}
    )

    assert renewal.amount_due == 4000
    assert renewal.period_start == sub["items"].data[0].current_period_end
    assert len(sim.all("invoice")) == 1  # previews are not invoices
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.create_preview(
            {"customer": customer, "subscription_details": {"items": [{"price": "price_nope"}]}}
        )


def test_void_and_uncollectible_follow_the_invoice_states(client: stripe.StripeClient, sim: Simulator) -> None:
    customer = _customer(client)
    draft = client.v1.invoices.create({"customer": customer})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.void_invoice(draft.id)
    client.v1.invoices.finalize_invoice(draft.id)
    assert client.v1.invoices.mark_uncollectible(draft.id).status == "uncollectible"
    assert client.v1.invoices.void_invoice(draft.id).status == "void"
    assert [e["type"] for e in sim.events() if e["type"].startswith("invoice.")] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.marked_uncollectible",
        "invoice.voided",
    ]
