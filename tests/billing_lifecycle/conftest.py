"""Plans, subscriptions, invoices and the webhook, on the Stripe simulator: the stage's Prices
seeded, the webhook's signing secret in SSM, and Stripe's deliveries going to the webhook
function in-process (`Lifecycle.deliver()` sends what is queued, as Stripe would)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from stripe_simulator import Simulator, WebhookEndpoint
from stripe_simulator.resources.prices import seed_price
from tests.billing import conftest as billing_fixtures
from tests.billing_lifecycle.helpers import MONTHLY, PRICE_IDS, WEBHOOK_SECRET_PARAMETER, Lifecycle

# The billing package's fixtures, shared.
billing = billing_fixtures.billing
stripe_sim = billing_fixtures.stripe_sim


@pytest.fixture
def lifecycle(billing: dict[str, Any], stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Lifecycle:
    for plan, price in PRICE_IDS.items():
        seed_price(stripe_sim, price, MONTHLY[plan], plan.title())
    monkeypatch.setenv("PLAN_PRICE_IDS", json.dumps(PRICE_IDS))
    monkeypatch.setenv("PLAN_MONTHLY_PRICES", json.dumps(MONTHLY))
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_PARAMETER", WEBHOOK_SECRET_PARAMETER)
    parameters.clear_caches()  # Powertools keeps parameters per process; each test has its own secret
    endpoint = WebhookEndpoint(lambda body, headers: 0)
    boto3.client("ssm").put_parameter(
        Name=WEBHOOK_SECRET_PARAMETER, Value=endpoint.secret, Type="SecureString", Overwrite=True
    )
    life = Lifecycle(stripe_sim, endpoint)
    endpoint.deliver = life.receive
    stripe_sim.add_webhook_endpoint(endpoint)
    return life
