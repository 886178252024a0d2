"""What loading a function's handler module imports (its cold start, DESIGN §10): the heavy
modules a function's first answer does not need stay unimported until a request needs them.

Each function is loaded in a fresh interpreter with its own folder and the layer on the path, as
Lambda loads it; the modules it imported are compared with what it must not load yet. `make bench`
times the result; this test keeps a lazy import from quietly becoming an eager one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache

import pytest

from local.template import ROOT, functions, load_template

# Module → why no function's handler module may import it while loading.
NEVER_AT_LOAD = {
    # Powertools' OpenAPI document models: only the OpenAPI document (docs, tests) needs them.
    "aws_lambda_powertools.event_handler.openapi.models": "the OpenAPI document's models",
    # Every feature's erasure: loaded when an account is deleted.
    "account_billing.deletion.steps": "the erasure of an account",
    # Powertools Parameters: the Stripe secrets are read on the first call to Stripe.
    "aws_lambda_powertools.utilities.parameters": "SSM Parameters",
}
# Stripe's SDK is imported when Stripe is first called; the webhook verifies every delivery with it.
STRIPE_AT_LOAD = {"StripeWebhookFunction"}
# The webhook's most frequent deliveries (invoices, subscriptions) do not touch cards.
CARDS_NOT_AT_LOAD = {"StripeWebhookFunction"}
# The account routes' request and response models (pydantic classes): only the account routes'
# function loads them; the others read accounts as stored records.
# The export worker writes the profile as the account routes show it (`accounts.views`).
ACCOUNT_MODELS_AT_LOAD = {"ProfileFunction", "AccountExportsFunction"}

PROBE = """
import json, sys
sys.path[:0] = sys.argv[1:3]
import app
print(json.dumps(sorted(sys.modules)))
"""


@cache
def loaded_by(code_uri: str) -> frozenset[str]:
    """The modules imported by loading the handler module of the function in `code_uri`."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        "AWS_DEFAULT_REGION": "eu-west-1",
        "POWERTOOLS_SERVICE_NAME": "cold-imports",
        "POWERTOOLS_METRICS_NAMESPACE": "ColdImports",
    }
    done = subprocess.run(  # noqa: S603 -- this interpreter, our own handler modules
        [sys.executable, "-c", PROBE, str(ROOT / code_uri), str(ROOT / "layers" / "common")],
        env=environment,
        cwd=ROOT / code_uri,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return frozenset(json.loads(done.stdout.strip().splitlines()[-1]))


SPECS = functions(load_template())


@pytest.mark.parametrize("name", sorted(SPECS))
def test_loading_a_function_imports_only_what_its_first_answer_needs(name: str) -> None:
    loaded = loaded_by(SPECS[name].code_uri)
    assert "app" in loaded  # the probe did load the handler module
    assert "boto3" in loaded  # every function speaks to AWS: a probe that loads nothing cannot pass
    for module, why in NEVER_AT_LOAD.items():
        assert module not in loaded, f"{name} imports {module} ({why}) while loading"
    if name not in STRIPE_AT_LOAD:
        assert "stripe" not in loaded, f"{name} imports Stripe's SDK before calling Stripe"
    if name not in ACCOUNT_MODELS_AT_LOAD:
        assert "account_billing.accounts.models" not in loaded, f"{name} imports the account routes' models"
    if name in CARDS_NOT_AT_LOAD:
        assert "account_billing.billing.cards.service" not in loaded, f"{name} imports the card service while loading"
