"""The simulator's state saved as JSON and loaded into a new simulator (the local stack keeps it
across restarts): objects, what it knows privately (the test card behind a payment method),
fingerprints, idempotency keys, expiring authorizations and undelivered events all carry over."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import stripe

from stripe_simulator import Clock, Simulator, WebhookEndpoint
from stripe_simulator.snapshot import dump, load

START = 1_790_000_000


def _client(sim: Simulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_snapshot", http_client=sim.http_client())


def _restarted(sim: Simulator, clock: Clock) -> Simulator:
    state = json.loads(json.dumps(dump(sim)))  # as written to and read from a file
    fresh = Simulator(clock)
    load(fresh, state)
    return fresh


def test_a_held_card_payment_carries_over_and_still_expires_after_seven_days() -> None:
    clock = Clock(START, frozen=True)
    sim = Simulator(clock)
    client = _client(sim)
    customer = client.v1.customers.create({}).id
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
    params: Any = {
        "amount": 5000,
        "currency": "usd",
        "customer": customer,
        "payment_method": pm.id,
        "capture_method": "manual",
        "confirm": True,
    }
    intent = client.v1.payment_intents.create(params, {"idempotency_key": "hold-1"})

    fresh = _restarted(sim, clock)
    again = _client(fresh)

    replayed = again.v1.payment_intents.create(params, {"idempotency_key": "hold-1"})
    assert replayed.id == intent.id  # the key's first answer, not a second hold
    assert len(fresh.all("payment_intent")) == 1
    other = again.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
    assert other.card is not None
    assert pm.card is not None
    assert other.card.fingerprint == pm.card.fingerprint  # the same card is still the same card
    clock.advance(timedelta(days=7, seconds=1))
    fresh.tick()
    assert again.v1.payment_intents.retrieve(intent.id).status == "canceled"


def test_a_card_needing_authentication_still_needs_it() -> None:
    clock = Clock(START, frozen=True)
    sim = Simulator(clock)
    client = _client(sim)
    customer = client.v1.customers.create({}).id
    pm = client.v1.payment_methods.attach("pm_card_threeDSecureRequired", {"customer": customer})
    intent = client.v1.payment_intents.create(
        {"amount": 100, "currency": "usd", "customer": customer, "payment_method": pm.id, "confirm": True}
    )
    assert intent.status == "requires_action"

    fresh = _restarted(sim, clock)

    assert fresh.authenticate(intent.id)["status"] == "succeeded"


def test_events_not_yet_delivered_go_to_the_new_endpoints() -> None:
    clock = Clock(START, frozen=True)
    sim = Simulator(clock)
    sim.add_webhook_endpoint(WebhookEndpoint(lambda body, headers: 500))
    customer = _client(sim).v1.customers.create({}).id

    fresh = Simulator(clock)
    received: list[str] = []

    def deliver(body: bytes, headers: dict[str, str]) -> int:
        received.append(body.decode())
        return 200

    fresh.add_webhook_endpoint(WebhookEndpoint(deliver))
    load(fresh, json.loads(json.dumps(dump(sim))))
    fresh.webhooks.deliver_pending()

    assert [json.loads(body)["data"]["object"]["id"] for body in received] == [customer]


def test_a_snapshot_of_another_version_is_refused() -> None:
    state = dump(Simulator())
    state["version"] = 0

    with pytest.raises(ValueError, match="snapshot"):
        load(Simulator(), state)
