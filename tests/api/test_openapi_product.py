"""The API description reads like a product: every operation has a stable, meaningful
operationId and one tag of the API's areas, and the bodies it takes and returns carry examples
that are valid instances of their schemas. A new route without them fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from docs.openapi import build
from local.openapi import TAGS

AREAS = ["Account", "Emails", "Avatar", "Cards", "Subscription", "Invoices", "Spending", "Webhooks"]
# `<area>.<verb><Object>`: the area in lower case, then a camelCase verb phrase (emails.add).
OPERATION_ID = re.compile(r"^[a-z]+\.[a-z]+[A-Za-z]*$")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_unique_meaningful_operation_id(document: dict[str, Any]) -> None:
    ids = {route: operation.get("operationId") for route, operation in operations(document)}

    missing = [route for route, operation_id in ids.items() if not operation_id]
    malformed = {route: op for route, op in ids.items() if op and not OPERATION_ID.fullmatch(op)}
    assert not missing, f"routes without operation_id=...: {missing}"
    assert not malformed, f"operationIds not shaped <area>.<verb>: {malformed}"
    assert len(set(ids.values())) == len(ids), "operationIds must be unique"


def test_every_operation_has_exactly_one_tag_of_the_api_areas(document: dict[str, Any]) -> None:
    tags = {route: operation.get("tags") for route, operation in operations(document)}

    wrong = {route: tag for route, tag in tags.items() if not tag or len(tag) != 1 or tag[0] not in AREAS}
    assert not wrong, f"each operation needs tags=[<one of {AREAS}>]: {wrong}"
    assert [tag["name"] for tag in document["tags"]] == AREAS == [tag.name for tag in TAGS]
    assert all(tag.get("description") for tag in document["tags"])
    assert {tag[0] for tag in tags.values() if tag} == set(AREAS), "an area without an operation"


def test_the_ids_a_generated_sdk_is_named_by_are_stable(document: dict[str, Any]) -> None:
    # Renaming one breaks every generated client: change these only with a new API version.
    ids = {route: operation["operationId"] for route, operation in operations(document)}
    assert ids["POST /v1/account/emails"] == "emails.add"
    assert ids["POST /v1/account/emails/verify"] == "emails.verify"
    assert ids["POST /v1/account"] == "account.create"
    assert ids["POST /v1/billing/payment-methods"] == "cards.add"
    assert ids["PUT /v1/billing/subscription"] == "subscription.change"
    assert ids["GET /v1/billing/invoices"] == "invoices.list"


def body_schemas(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The JSON request body and JSON success responses of every operation that has one."""
    for route, operation in operations(document):
        request = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if request is not None:
            yield f"{route} request", request["schema"]
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json")
            if status.startswith("2") and content is not None and content["schema"]:
                yield f"{route} {status}", content["schema"]


def resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_json_body_has_examples_valid_against_its_schema(document: dict[str, Any]) -> None:
    registry: Registry[Any] = Registry().with_resource("urn:api", DRAFT202012.create_resource(document))
    bodies = dict(body_schemas(document))
    assert len(bodies) >= 39  # 14 request bodies and 25 JSON success answers today

    without = [name for name, schema in bodies.items() if not resolved(document, schema).get("examples")]
    assert not without, f"bodies without examples (json_schema_extra / with_examples): {without}"
    for name, schema in bodies.items():
        target = resolved(document, schema)
        pointer = {"$ref": schema["$ref"].replace("#", "urn:api#", 1)} if "$ref" in schema else target
        validator = jsonschema.Draft202012Validator(pointer, registry=registry)
        for example in target["examples"]:
            errors = [error.message for error in validator.iter_errors(example)]
            assert not errors, f"{name}: an example does not match its schema: {errors}"


def test_an_example_that_breaks_its_schema_is_caught(document: dict[str, Any]) -> None:
    registry: Registry[Any] = Registry().with_resource("urn:api", DRAFT202012.create_resource(document))
    validator = jsonschema.Draft202012Validator(
        {"$ref": "urn:api#/components/schemas/AddEmailRequest"}, registry=registry
    )

    assert list(validator.iter_errors({"address": "ada@example.com"})) == []
    assert list(validator.iter_errors({"address": "ada@example.com", "extra": 1}))
