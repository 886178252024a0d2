"""docs/openapi.json is generated from the code and must match it."""

from __future__ import annotations

import json

from docs.openapi import OUTPUT, build, render
from local.template import http_routes, load_template


def test_the_committed_document_is_current() -> None:
    assert OUTPUT.read_text() == render(), "docs/openapi.json is stale: run `make openapi`"


def test_it_documents_every_route_of_the_template_and_only_those() -> None:
    document = build()
    documented = {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops}
    assert documented == {route.route_key for route in http_routes(load_template())}


def test_public_routes_need_no_token_and_the_rest_a_bearer_jwt() -> None:
    document = json.loads(render())
    assert document["components"]["securitySchemes"]["jwt"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert document["security"] == [{"jwt": []}]
    for route in http_routes(load_template()):
        operation = document["paths"][route.path][route.method.lower()]
        assert ("security" in operation and operation["security"] == []) is route.public


def test_problem_responses_are_documented() -> None:
    operation = build()["paths"]["/v1/account/user-id"]["put"]
    assert "application/problem+json" in operation["responses"]["409"]["content"]
