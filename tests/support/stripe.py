"""Stripe for tests and benchmarks: the offline simulator, reached the way production reaches
Stripe. The functions build their StripeClient unchanged (a test key from SSM); only the HTTP
client their requests travel through is the simulator's, handed to every container."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters

from account_billing.billing.stripe.client import http_client
from account_billing.core.wiring import providing
from stripe_simulator import Simulator

SECRET_KEY_PARAMETER = "/account-billing/test/stripe-secret-key"
TEST_KEY = "sk_test_simulator"
START = 1_790_000_000  # 2026-09-21T14:13:20Z: the frozen clock simulator tests start from


def stripe_object(sim: Simulator, identifier: str, kind: str) -> dict[str, Any]:
    """An object the simulator holds (a test fails here if it does not)."""
    found = sim.get(identifier, kind)
    assert found is not None, f"no {kind} {identifier}"
    return found


def store_test_key() -> dict[str, str]:
    """Put the test key in (moto's) SSM where the functions read it; the environment naming it."""
    boto3.client("ssm").put_parameter(Name=SECRET_KEY_PARAMETER, Value=TEST_KEY, Type="SecureString", Overwrite=True)
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools keeps parameters per process
    return {"STRIPE_SECRET_KEY_PARAMETER": SECRET_KEY_PARAMETER, "STRIPE_MODE": "test"}


@contextmanager
def simulated(simulator: Simulator) -> Iterator[Simulator]:
    """While this lasts, every container's Stripe requests go to `simulator`."""
    with providing(http_client, simulator.http_client()):
        yield simulator


@contextmanager
def simulated_process(simulator: Simulator) -> Iterator[Simulator]:
    """`simulated`, with the test key in SSM and the environment naming it (moto must be on)."""
    saved = dict(os.environ)
    os.environ.update(store_test_key())
    try:
        with simulated(simulator):
            yield simulator
    finally:
        os.environ.clear()
        os.environ.update(saved)
