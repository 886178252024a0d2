"""An endpoint of the simulator: the stripe-python call it answers and its handler. The HTTP
method, the path and the parameters it accepts are the SDK's for that call (`sdk.endpoint`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import sdk


@dataclass(frozen=True)
class Route:
    call: str  # the StripeClient call, e.g. "v1.subscription_schedules.update"
    handler: Callable[..., dict[str, Any]]  # (simulator, params, *path parameters) → body

    @property
    def endpoint(self) -> sdk.Endpoint:
        return sdk.endpoint(self.call)
