"""An offline, stateful simulator of the part of Stripe's API this service uses.

It plugs in as stripe-python's HTTP client, or is served over HTTP on the loopback interface
(`server`) for a client whose API base points at it; either way the production gateway runs
unchanged:

    simulator = Simulator()
    client = stripe.StripeClient("sk_test_simulator", http_client=simulator.http_client())

It follows Stripe's documented behaviour for that subset: the published test cards and their
`pm_card_*` shortcuts, PaymentIntents with manual capture (and the expiry of an uncaptured
authorization after seven days on a controllable clock), refunds capped at the captured amount,
idempotency keys, unknown parameters rejected, events delivered to a webhook endpoint with
Stripe's signature, and faults injected on demand (429, 500, timeouts).

Test and local code only: it is never shipped in the Lambda layer.
"""

from __future__ import annotations

from .clock import Clock
from .core import Simulator, StripeFault
from .http_client import SimulatorHTTPClient
from .process import default_simulator, install
from .server import SimulatorServer
from .webhooks import WebhookEndpoint

__all__ = [
    "Clock",
    "Simulator",
    "SimulatorHTTPClient",
    "SimulatorServer",
    "StripeFault",
    "WebhookEndpoint",
    "default_simulator",
    "install",
]
