"""The fuzzing suite's stack: the service's own template run locally (as `make dev` runs it),
one account to act as, and schemathesis configured to drive it from its OpenAPI document."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis

from local.stack import LocalStack

SUB = "fuzz-7f3c9a2e"
# How much each run generates: CI's bounded run by default; `make fuzz` sets a longer campaign.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
STATEFUL_STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "12"))
STATEFUL_RUNS = int(os.environ.get("FUZZ_STATEFUL_RUNS", "10"))
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))

# What every answer must satisfy: no 5xx, and the status code, content type, headers and body
# are among those the document describes for the operation. Checks that would judge business
# rules the document cannot express (a valid-looking card declined, an address already taken,
# 404 rather than 405 for an unrouted method, as API Gateway answers) are left out.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
# Values that get past validation to the deeper code now and then (Stripe's test cards, which
# the offline Stripe simulator knows; emails of the account's own domain).
DICTIONARIES = {
    "stripe-test-cards": [
        "pm_card_visa",
        "pm_card_mastercard",
        "pm_card_chargeDeclined",
        "pm_card_chargeDeclinedInsufficientFunds",
        "pm_card_authenticationRequired",
    ],
    "addresses": ["fuzz@example.test", "second@example.test"],
}
PARAMETERS = {
    "body.payment_method": "stripe-test-cards",
    "path.payment_method_id": "stripe-test-cards",
    "body.address": "addresses",
    "path.email": "addresses",
}


@dataclass(frozen=True)
class FuzzTarget:
    stack: LocalStack
    token: str

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def issue_token(self, sub: str) -> str:
        return self.stack.issue_token(sub, expires_in=6 * 3600)

    def new_account(self, sub: str) -> FuzzTarget:
        """The target acting as a new account of its own."""
        target = FuzzTarget(self.stack, self.issue_token(sub))
        created = httpx.post(
            f"{target.base_url}/v1/account", json={"user_id": sub.replace("-", "_")}, headers=target.auth
        )
        assert created.status_code == 201, created.text
        return target


@pytest.fixture(scope="package")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The local stack with one account, and a token for it valid for the whole run."""
    with LocalStack(state_dir=tmp_path_factory.mktemp("fuzz-state")) as stack:
        yield FuzzTarget(stack, "").new_account(SUB)


def schemathesis_config(target: FuzzTarget) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "base-url": target.base_url,
            "seed": SEED,
            "generation": {"mode": "all", "deterministic": True, "max-examples": EXAMPLES, "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "auth": {"openapi": {"jwt": {"bearer": target.token}}},
            "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
            "parameters": {key: {"dictionary": name, "probability": 0.5} for key, name in PARAMETERS.items()},
            "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
            "suppress-health-check": ["all"],
        }
    )


def with_links(document: dict[str, Any]) -> dict[str, Any]:
    """The document with OpenAPI links from where a resource's id or ETag appears to where it
    is used, so the stateful run reaches what random ids never do (a card just added, an
    address just added, the account's current version)."""

    def operation_id(path: str, method: str) -> str:
        return str(document["paths"][path][method]["operationId"])

    def link(source: tuple[str, str, str], name: str, target: tuple[str, str], **parameters: str) -> None:
        path, method, status = source
        response = document["paths"][path][method]["responses"][status]
        response.setdefault("links", {})[name] = {"operationId": operation_id(*target), "parameters": parameters}

    account = ("/v1/account", "get", "200")
    etag = "$response.header.ETag"
    link(account, "UpdateProfile", ("/v1/account/profile", "patch"), **{"header.if-match": etag})
    link(account, "SetVisibility", ("/v1/account/visibility", "put"), **{"header.if-match": etag})
    link(account, "ChangeUserId", ("/v1/account/user-id", "put"), **{"header.if-match": etag})
    added_email = ("/v1/account/emails", "post", "201")
    link(added_email, "RemoveEmail", ("/v1/account/emails/{email}", "delete"), email="$response.body#/address")
    added_card = ("/v1/billing/payment-methods", "post", "201")
    card_id = "$response.body#/payment_method/id"
    link(
        added_card,
        "RemoveCard",
        ("/v1/billing/payment-methods/{payment_method_id}", "delete"),
        payment_method_id=card_id,
    )
    link(
        added_card,
        "MakeDefault",
        ("/v1/billing/payment-methods/{payment_method_id}/default", "put"),
        payment_method_id=card_id,
    )
    listed = ("/v1/billing/payment-methods", "get", "200")
    first_card = "$response.body#/payment_methods/0/id"
    link(
        listed,
        "RemoveListedCard",
        ("/v1/billing/payment-methods/{payment_method_id}", "delete"),
        payment_method_id=first_card,
    )
    link(
        listed,
        "MakeListedCardDefault",
        ("/v1/billing/payment-methods/{payment_method_id}/default", "put"),
        payment_method_id=first_card,
    )
    waiting_card = ("/v1/billing/payment-methods", "post", "202")
    link(
        waiting_card,
        "RetryVerification",
        ("/v1/billing/payment-methods/{payment_method_id}/verification", "post"),
        payment_method_id=card_id,
    )
    return document


def load_schema(target: FuzzTarget) -> Any:
    """The merged OpenAPI document the stack serves, loaded for schemathesis to act as `target`."""
    document = httpx.get(f"{target.base_url}/openapi.json").raise_for_status().json()
    return schemathesis.openapi.from_dict(with_links(document), config=schemathesis_config(target))


@pytest.fixture(scope="package")
def api_schema(fuzz_target: FuzzTarget) -> Any:
    return load_schema(fuzz_target)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's lazy schema reads `node._nodeid`, which pytest 9 no longer sets
    # (it keeps the id in `nodeid`); the test ids pytest reports are unchanged.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
