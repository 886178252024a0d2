"""What the simulator does with requests Stripe accepts: a subscription paid with its own default
card, schedules whose phases last a `duration`, the errors that carry the object they refuse."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import stripe

from stripe_simulator import Simulator
from stripe_simulator.resources.subscriptions import add_month


def _customer_with_card(client: stripe.StripeClient, card: str = "pm_card_visa") -> tuple[str, str]:
    """A customer with a card attached but no invoice default."""
    customer = client.v1.customers.create({}).id
    return customer, client.v1.payment_methods.attach(card, {"customer": customer}).id


def _subscribe(client: stripe.StripeClient, customer: str, pm: str | None, price: str = "price_large") -> Any:
    params: Any = {"customer": customer, "items": [{"price": price}], "payment_behavior": "error_if_incomplete"}
    if pm:
        params["default_payment_method"] = pm
    return client.v1.subscriptions.create(params)


def test_a_subscriptions_own_default_card_pays_its_first_invoice(client: stripe.StripeClient, sim: Simulator) -> None:
    customer, pm = _customer_with_card(client)

    sub = _subscribe(client, customer, pm)

    invoice = client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (sub.status, sub.default_payment_method) == ("active", pm)
    assert (invoice.status, invoice.amount_paid) == ("paid", 4000)
    assert [i["payment_method"] for i in sim.all("payment_intent")] == [pm]


def test_without_any_card_nothing_is_created_and_the_answer_is_stripes(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    customer, _ = _customer_with_card(client)
    _, others_card = _customer_with_card(client)

    with pytest.raises(stripe.InvalidRequestError) as no_card:
        _subscribe(client, customer, None)
    with pytest.raises(stripe.InvalidRequestError) as not_theirs:
        _subscribe(client, customer, others_card)

    assert (no_card.value.http_status, no_card.value.code) == (400, "resource_missing")
    assert (not_theirs.value.code, not_theirs.value.param) == ("resource_missing", "default_payment_method")
    assert sim.all("subscription") == []
    assert sim.all("invoice") == []


def test_a_declined_default_card_creates_nothing(client: stripe.StripeClient, sim: Simulator) -> None:
    customer, pm = _customer_with_card(client, "pm_card_chargeCustomerFail")

    with pytest.raises(stripe.CardError) as declined:
        _subscribe(client, customer, pm)

    assert declined.value.code == "card_declined"
    assert sim.all("subscription") == []


def _downgrade(client: stripe.StripeClient, sub: Any, schedule: Any = None, **last_phase: Any) -> Any:
    schedule = schedule or client.v1.subscription_schedules.create({"from_subscription": sub.id})
    phase = schedule.phases[0]
    phases: Any = [
        {"items": [{"price": "price_large"}], "start_date": phase.start_date, "end_date": phase.end_date},
        {"items": [{"price": "price_small"}], **last_phase},
    ]
    return client.v1.subscription_schedules.update(schedule.id, {"phases": phases, "end_behavior": "release"})


def test_a_one_month_duration_phase_changes_the_price_at_the_period_end_then_releases(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    customer, pm = _customer_with_card(client)
    sub = _subscribe(client, customer, pm)
    end = sub["items"].data[0].current_period_end

    schedule = _downgrade(client, sub, duration={"interval": "month", "interval_count": 1})

    assert (schedule.phases[1].start_date, schedule.phases[1].end_date) == (end, add_month(end, end))
    sim.advance(timedelta(days=31))
    renewed = client.v1.subscriptions.retrieve(sub.id)
    assert renewed["items"].data[0].price.id == "price_small"
    assert client.v1.invoices.retrieve(str(renewed.latest_invoice)).amount_paid == 1000
    assert client.v1.subscription_schedules.retrieve(schedule.id).status == "active"
    sim.advance(timedelta(days=31))
    assert client.v1.subscription_schedules.retrieve(schedule.id).status == "released"
    after = client.v1.subscriptions.retrieve(sub.id)
    assert (after.status, after.schedule, after["items"].data[0].price.id) == ("active", None, "price_small")


def test_a_phase_takes_an_end_date_or_a_duration_not_both(client: stripe.StripeClient, sim: Simulator) -> None:
    customer, pm = _customer_with_card(client)
    sub = _subscribe(client, customer, pm)
    end = sub["items"].data[0].current_period_end

    schedule = client.v1.subscription_schedules.create({"from_subscription": sub.id})
    with pytest.raises(stripe.InvalidRequestError) as both:
        _downgrade(client, sub, schedule, end_date=add_month(end, end), duration={"interval": "month"})
    with pytest.raises(stripe.InvalidRequestError) as bad_interval:
        _downgrade(client, sub, schedule, duration={"interval": "fortnight"})

    assert (both.value.code, both.value.param) == ("parameters_exclusive", "phases[1][duration]")
    assert bad_interval.value.param == "phases[1][duration][interval]"


def test_confirming_a_finished_setup_intent_is_a_400_that_carries_it(client: stripe.StripeClient) -> None:
    customer, _ = _customer_with_card(client)
    intent = client.v1.setup_intents.create({"customer": customer, "payment_method": "pm_card_visa", "confirm": True})

    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.setup_intents.confirm(intent.id)

    assert (again.value.http_status, again.value.code) == (400, "setup_intent_unexpected_state")
    assert again.value.error is not None
    assert again.value.error.setup_intent is not None
    assert again.value.error.setup_intent.id == intent.id


def test_lists_page_backwards_with_ending_before(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({}).id
    intents = [
        client.v1.payment_intents.create({"amount": 5000, "currency": "usd", "customer": customer}).id for _ in range(5)
    ]  # listed newest first: 4, 3, 2, 1, 0

    page = client.v1.payment_intents.list({"customer": customer, "limit": 2, "ending_before": intents[1]})

    assert [i.id for i in page.data] == [intents[3], intents[2]]
    assert page.has_more is True
