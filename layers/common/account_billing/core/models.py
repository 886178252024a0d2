"""What the API's pydantic models share. Each feature keeps its own request and response models in
its `models` module.

Every model defers building its validator until first used (`defer_build`): a cold container
builds only the models of the routes it actually serves, not all of them at import.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

LAZY = ConfigDict(defer_build=True)


def with_examples(*examples: dict[str, Any], **config: Any) -> ConfigDict:
    """A model's configuration (lazy, plus `config`) with examples of it, which the OpenAPI
    document shows for a request or response body (a test checks each against its schema)."""
    model_config = ConfigDict(defer_build=True, json_schema_extra={"examples": list(examples)})
    model_config.update(config)  # type: ignore[typeddict-item]
    return model_config
