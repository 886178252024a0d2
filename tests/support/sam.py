"""template.yaml through the SAM transform, offline (as `sam build`/`deploy` would see it)."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from local.template import load_template

PARAMETERS = {"JwtIssuer": "https://issuer.example.com/", "JwtAudience": "account-billing"}


class _NoManagedPolicies:
    """The translator's managed-policy loader, offline: the template names no managed policy
    by name (SAM resolves AWSLambdaBasicExecutionRole from data bundled in the package)."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def _transformed() -> dict[str, Any]:
    sam = copy.deepcopy(load_template())
    # The translator wants S3 locations where `sam build` would have uploaded the code.
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in props:
                props[key] = f"s3://artifacts/{Path(props[key]).name}.zip"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # for the ARNs the translator writes
        transformed: dict[str, Any] = transform(sam, PARAMETERS, _NoManagedPolicies())
        return transformed


def transformed_template() -> dict[str, Any]:
    """The transformed template (a copy: callers may change it)."""
    return copy.deepcopy(_transformed())
