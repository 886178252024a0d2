"""An endpoint of the simulator: method, path pattern, handler and accepted parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # a regex over the path, with named groups for path parameters
    handler: Callable[..., dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)  # accepted parameters (forms.check)
