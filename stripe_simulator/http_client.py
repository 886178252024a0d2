"""stripe-python's HTTP client seam: requests go to the simulator instead of the network."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import stripe

from .core import SimulatedTimeout

if TYPE_CHECKING:
    from .core import Simulator


class SimulatorHTTPClient(stripe.HTTPClient):
    """Pass as `stripe.StripeClient(key, http_client=SimulatorHTTPClient(simulator))`.

    Retries happen in stripe-python exactly as over the network (the same `_should_retry`),
    without the real waiting: the delays between retries are skipped.
    """

    name: ClassVar[str] = "stripe-simulator"

    def __init__(self, simulator: Simulator) -> None:
        super().__init__()
        self.simulator = simulator

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        try:
            response = self.simulator.handle(method, url, dict(headers or {}), post_data)
        except SimulatedTimeout:
            raise stripe.APIConnectionError("Request to Stripe timed out (simulated).", should_retry=True) from None
        return json.dumps(response.body), response.status, response.headers

    def request_stream(self, method: str, url: str, headers: Any, post_data: Any = None, **_: Any) -> Any:
        body, status, headers_out = self.request(method, url, headers, post_data)
        return iter([body.encode()]), status, headers_out

    def close(self) -> None:
        return None

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0.0
