"""An offline, stateful simulator of the part of Stripe's API this service uses.

It plugs in as stripe-python's HTTP client, or is served over HTTP on the loopback interface
(`server`) for a client whose API base points at it; either way the production gateway runs
unchanged:

    simulator = Simulator()
    client = stripe.StripeClient("sk_test_simulator", http_client=simulator.http_client())

It is as strict as Stripe at the API version stripe-python pins, by construction from the SDK's
generated code (`sdk`): an endpoint accepts exactly the parameters of its `stripe.params`
TypedDict (`params`), and every object it answers carries the fields the resource classes mark
always present (`shapes` checks them). It follows Stripe's documented behaviour for that subset:
the published test cards and their `pm_card_*` shortcuts, PaymentIntents with manual capture
(and the expiry of an uncaptured authorization after seven days on a controllable clock),
refunds capped at the captured amount, subscriptions, schedules and invoices, idempotency keys,
events delivered to a webhook endpoint with Stripe's signature, and faults injected on demand
(429, 500, timeouts). What it does not simulate raises `NotSimulated` rather than answering.

Test and local code only: it is never shipped in the Lambda layer.
"""

from __future__ import annotations

from .clock import Clock
from .core import Simulator, StripeFault
from .http_client import SimulatorHTTPClient
from .process import default_simulator, install
from .sdk import NotSimulated
from .server import SimulatorServer
from .webhooks import WebhookEndpoint

__all__ = [
    "Clock",
    "NotSimulated",
    "Simulator",
    "SimulatorHTTPClient",
    "SimulatorServer",
    "StripeFault",
    "WebhookEndpoint",
    "default_simulator",
    "install",
]
