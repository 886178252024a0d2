"""What loading a function's handler module imports (its cold start, DESIGN §10): the heavy
modules a function's first answer does not need stay unimported until a request needs them.

Each function is loaded in a fresh interpreter with its own folder and the layer on the path, as
Lambda loads it; the modules it imported are compared with what it must not load yet. `make bench`
times the result; this test keeps a lazy import from quietly becoming an eager one.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from functools import cache
from typing import Any

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
# The card service: the card routes' function only (the webhook's most frequent deliveries,
# invoices and subscriptions, do not touch cards; idempotent routes elsewhere are handed their service).
CARD_SERVICE_AT_LOAD = {"PaymentMethodsFunction"}
# The activity log's page models: the account routes' function shows the log, the export worker
# writes it; every other function only appends entries.
ACTIVITY_MODELS_AT_LOAD = {"ProfileFunction", "AccountExportsFunction"}
# The background Stripe tasks' models: where tasks are queued (cards) or run (the release worker).
TASKS_AT_LOAD = {"PaymentMethodsFunction", "PreauthReleaseFunction"}
# The account routes' request and response models (pydantic classes): only the account routes'
# function loads them; the others read accounts as stored records.
# The export worker writes the profile as the account routes show it (`accounts.views`).
ACCOUNT_MODELS_AT_LOAD = {"ProfileFunction", "AccountExportsFunction"}

PROBE = """
import gc, json, sys
sys.path[:0] = sys.argv[1:3]
import app
print(json.dumps({"modules": list(sys.modules), "collecting": gc.isenabled()}))
"""
# The modules a start spends most of its time loading: the garbage collector is paused before them.
HEAVY = ("boto3", "botocore", "pydantic", "aws_lambda_powertools", "account_billing.core.settings")


@cache
def probed(code_uri: str) -> dict[str, Any]:
    """Loading the handler module of the function in `code_uri` as Lambda's runtime does: the
    modules it imported, in order, and whether the garbage collector runs afterwards."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
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
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def loaded_by(code_uri: str) -> frozenset[str]:
    """The modules imported by loading the handler module of the function in `code_uri`."""
    return frozenset(probed(code_uri)["modules"])


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
    if name not in CARD_SERVICE_AT_LOAD:
        assert "account_billing.billing.cards.service" not in loaded, f"{name} imports the card service while loading"
    if name not in ACTIVITY_MODELS_AT_LOAD:
        assert "account_billing.activity.models" not in loaded, f"{name} imports the activity log's page models"
    if name not in TASKS_AT_LOAD:
        assert "account_billing.billing.tasks" not in loaded, f"{name} imports the background tasks' models"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_function_starts_with_the_garbage_collector_paused_until_its_first_answer(name: str) -> None:
    found = probed(SPECS[name].code_uri)
    order = found["modules"]
    assert not found["collecting"], f"{name}'s start leaves the garbage collector running"
    paused_at = order.index("account_billing.core.coldstart")
    for module in HEAVY:
        assert module in order, f"the probe of {name} did not load {module}"
        assert paused_at < order.index(module), f"{name} loads {module} before pausing the garbage collector"
    decorators = _handler_source(SPECS[name].code_uri).decorator_list
    assert decorators, f"{name}'s handler has no decorators"
    outermost = ast.unparse(decorators[0])
    assert outermost == "resumes_collection", (
        f"{name}'s handler does not resume the garbage collector after its first answer "
        f"(its outermost decorator is {outermost})"
    )


def _handler_source(code_uri: str) -> ast.FunctionDef:
    tree = ast.parse((ROOT / code_uri / "app.py").read_text())
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "lambda_handler")
