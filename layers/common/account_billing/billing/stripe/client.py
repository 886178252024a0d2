"""The StripeClient a function uses: the pinned API version, bounded network retries, short
timeouts, the secret key from SSM Parameter Store, and how Stripe is reached.

Stripe is reached at its own API unless the `stripe_api_base` setting names another base URL
(as people point clients at a stripe-mock; the local stack does), which only a test key may use.
The HTTP client is a per-container singleton, so a test can provide its own
(`core.wiring.providing`); production code never names a fake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe

from account_billing.core.settings import required
from account_billing.core.wiring import per_container, ssm_parameters

if TYPE_CHECKING:
    from account_billing.billing.settings import BillingSettings

# The API version this code was written against (stripe-python 16.1.0's own); pinned so a new
# library or account default never changes the shapes under us.
API_VERSION = "2026-10-28.endive"
MAX_NETWORK_RETRIES = 2
CONNECT_TIMEOUT, READ_TIMEOUT = 3.0, 8.0
SECRET_MAX_AGE = 300  # seconds the secret key stays cached before SSM is asked again
SECRET_KEY_PREFIXES = ("sk_", "rk_")
TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


@per_container
def http_client() -> stripe.HTTPClient:
    """How this container's Stripe requests travel: over the network, with short timeouts."""
    return stripe.RequestsClient(timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))


def stripe_client(
    api_key: str,
    *,
    http_client: stripe.HTTPClient | None = None,
    api_base: str | None = None,
    max_network_retries: int = MAX_NETWORK_RETRIES,
) -> stripe.StripeClient:
    """A StripeClient with the pinned API version and bounded retries. Another `api_base` than
    Stripe's own takes a test key only: a live key is never sent anywhere but to Stripe."""
    if api_base and not api_key.startswith(TEST_KEY_PREFIXES):
        raise RuntimeError("STRIPE_API_BASE takes a test key (sk_test_...) only")
    return stripe.StripeClient(
        api_key,
        stripe_version=API_VERSION,
        max_network_retries=max_network_retries,
        http_client=http_client or stripe.RequestsClient(timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)),
        base_addresses={"api": api_base} if api_base else None,
    )


def secret_key(settings: BillingSettings) -> str:
    """The Stripe secret key from SSM Parameter Store (SecureString), cached by Powertools."""
    name = required(settings.stripe_secret_key_parameter, "STRIPE_SECRET_KEY_PARAMETER")
    key = ssm_parameters().get(name, decrypt=True, max_age=SECRET_MAX_AGE)
    if not isinstance(key, str) or not key.startswith(SECRET_KEY_PREFIXES):
        raise RuntimeError("the Stripe secret key parameter does not hold a Stripe secret key")
    if settings.stripe_mode == "test" and not key.startswith(TEST_KEY_PREFIXES):
        raise RuntimeError("STRIPE_MODE=test takes a test key (sk_test_...) only")
    return key


def client_for(settings: BillingSettings) -> stripe.StripeClient:
    """The client of a function: its secret key, reached at the configured base."""
    return stripe_client(secret_key(settings), http_client=http_client(), api_base=settings.stripe_api_base)
