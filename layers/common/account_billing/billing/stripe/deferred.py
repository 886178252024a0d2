"""The Stripe gateway of a function, built (and stripe imported) at its first Stripe call: a
request that never reaches Stripe, such as listing the cards, never pays for importing it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from account_billing.billing.settings import BillingSettings
    from account_billing.billing.stripe.gateway import StripeGateway
    from account_billing.billing.stripe.ratelimit import RateLimiter


class _Deferred:
    def __init__(self, build: Callable[[], StripeGateway]) -> None:
        self._build = build
        self._gateway: StripeGateway | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._gateway is None:
                self._gateway = self._build()
        return getattr(self._gateway, name)


def deferred_gateway(settings: BillingSettings, limiter: RateLimiter | None = None) -> StripeGateway:
    def build() -> StripeGateway:
        from account_billing.billing.stripe.gateway import gateway_for  # noqa: PLC0415 - the point of this module

        return gateway_for(settings, limiter)

    return cast("StripeGateway", _Deferred(build))
