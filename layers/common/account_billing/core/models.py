"""What the API's pydantic models share. Each feature keeps its own request and response models in
its `models` module.

Every model defers building its validator until first used (`defer_build`): a cold container
builds only the models of the routes it actually serves, not all of them at import.
"""

from __future__ import annotations

from pydantic import ConfigDict

LAZY = ConfigDict(defer_build=True)
