"""The simulator on a frozen clock with two prices, and a StripeClient whose requests travel
through it: what most simulator tests start from."""

import pytest
import stripe

from stripe_simulator import Clock, Simulator
from stripe_simulator.resources.prices import seed_price
from tests.support.stripe import START


@pytest.fixture
def sim() -> Simulator:
    simulator = Simulator(Clock(START, frozen=True))
    seed_price(simulator, "price_small", 1000, "Small")
    seed_price(simulator, "price_large", 4000, "Large")
    return simulator


@pytest.fixture
def client(sim: Simulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_simulator", http_client=sim.http_client())
