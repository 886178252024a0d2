"""One test per defect the fuzzer found, each failing on the code it was found in: over HTTP
through the local stack (as the fuzzer met them), and in the OpenAPI document."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from account_billing.avatars.service import AvatarService
from docs.openapi import build
from local.template import http_routes, load_template
from tests.fuzz.conftest import FuzzTarget

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("fuzz")]


@pytest.fixture
def api(fuzz_target: FuzzTarget) -> Iterator[httpx.Client]:
    """A client of a new account of its own (User ID and visibility as created)."""
    sub = f"finding-{uuid.uuid4().hex[:10]}"
    auth = {"Authorization": f"Bearer {fuzz_target.issue_token(sub)}"}
    with httpx.Client(base_url=fuzz_target.base_url, headers=auth, timeout=30) as client:
        assert client.post("/v1/account", json={"user_id": sub.replace("-", "_")}).status_code == 201
        yield client


def problem_type(response: httpx.Response) -> str:
    return str(response.json()["type"]).rsplit(":", 1)[-1]


def visibility(api: httpx.Client) -> str:
    return str(api.get("/v1/account").json()["visibility"])


# ------------------------------------------------------------------ If-Match


@pytest.mark.parametrize(
    "if_match",
    ['W/"v1"', '"abc"', "null", "", ",", '"v-1"', '"v²"', '"v٣"', '"v01"', '"v' + "1" * 41 + '"', "v1"],
)
def test_an_if_match_that_names_none_of_our_tags_fails_the_precondition(api: httpx.Client, if_match: str) -> None:
    # (found: `version IN ()` or a number DynamoDB cannot hold, or int("²"): 500)
    response = api.put(
        "/v1/account/visibility", json={"visibility": "public"}, headers={b"if-match": if_match.encode()}
    )
    assert (response.status_code, problem_type(response)) == (412, "precondition-failed")
    assert visibility(api) == "private"  # nothing changed


def test_a_profile_update_with_a_superscript_version_fails_the_precondition(api: httpx.Client) -> None:
    response = api.patch("/v1/account/profile", json={"bio": "x"}, headers={b"if-match": '"v²"'.encode()})
    assert (response.status_code, problem_type(response)) == (412, "precondition-failed")


def test_if_match_naming_the_current_version_among_others_still_matches(api: httpx.Client) -> None:
    response = api.put(
        "/v1/account/visibility", json={"visibility": "public"}, headers={"if-match": 'W/"v1", "abc", "v1"'}
    )
    assert response.status_code == 200
    assert response.json()["visibility"] == "public"


def test_an_if_match_listing_hundreds_of_tags_is_refused_not_sent_to_dynamodb(api: httpx.Client) -> None:
    # (DynamoDB takes at most 100 operands in IN)
    tags = ", ".join(f'"v{n}"' for n in range(1, 151))
    response = api.put("/v1/account/visibility", json={"visibility": "public"}, headers={"if-match": tags})
    assert (response.status_code, problem_type(response)) == (422, "validation-error")
    assert response.json()["errors"] == [
        {"detail": "At most 20 entity tags", "code": "too_many_entity_tags", "parameter": "if-match", "in": "header"}
    ]


# ------------------------------------------------------------------ bodies


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("not UTF-8", b'{"visibility": "\xff\xfe"}'),
        ("nested 100,000 deep", b'{"visibility": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("a 5,000-digit number", b'{"visibility": ' + b"7" * 5_000 + b"}"),
        ("NaN, which JSON has not", b'{"visibility": NaN}'),
        ("not JSON at all", b"visibility=public"),
    ],
)
def test_a_body_that_is_not_json_is_a_400_problem(api: httpx.Client, name: str, body: bytes) -> None:
    # (found: UnicodeDecodeError, RecursionError and ValueError, each a 500)
    response = api.put("/v1/account/visibility", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, problem_type(response)) == (400, "malformed-json"), name
    assert response.headers["content-type"] == "application/problem+json"
    assert visibility(api) == "private"


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/plain"],
)
def test_a_body_of_another_type_is_refused_with_415(api: httpx.Client, content_type: str) -> None:
    # (found: multipart without a boundary, a 500; form bodies were parsed as if they were JSON)
    response = api.put("/v1/account/visibility", content=b"visibility=public", headers={"content-type": content_type})
    assert (response.status_code, problem_type(response)) == (415, "unsupported-media-type")
    assert visibility(api) == "private"


def test_a_json_body_with_a_charset_is_still_json(api: httpx.Client) -> None:
    body = json.dumps({"visibility": "public"}).encode()
    response = api.put(
        "/v1/account/visibility", content=body, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert (response.status_code, response.json()["visibility"]) == (200, "public")


def test_a_decoding_error_that_is_not_the_callers_body_stays_a_500(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "a bug of ours")

    monkeypatch.setattr(AvatarService, "request_upload", broken)
    response = api.post("/v1/account/avatar", json={"content_type": "image/png"})
    assert (response.status_code, problem_type(response)) == (500, "internal-error")


# ------------------------------------------------------------------ the document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build()


def _operations(document: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    template = load_template()
    return [(route, document["paths"][route.path][route.method.lower()]) for route in http_routes(template)]


def test_every_route_behind_the_authorizer_documents_its_401_as_api_gateway_sends_it(document: dict[str, Any]) -> None:
    # (found: the authorizer's {"message": "Unauthorized"} was an undocumented content type)
    for route, operation in _operations(document):
        if route.public:
            assert "401" not in operation["responses"], route.route_key
            continue
        unauthorized = operation["responses"]["401"]
        assert unauthorized["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/GatewayMessage"}
        assert "application/problem+json" in unauthorized["content"], route.route_key
        assert "WWW-Authenticate" in unauthorized["headers"]
    assert document["components"]["schemas"]["GatewayMessage"]["required"] == ["message"]


def test_no_route_requires_scopes_so_the_authorizer_never_answers_403() -> None:
    # API Gateway's JWT authorizer answers 403 only to a token lacking a route's scopes: a
    # route that requires some must document 403 {"message": "Forbidden"} too.
    assert [route.route_key for route in http_routes(load_template()) if route.scopes] == []


def test_every_route_taking_a_body_documents_400_and_415(document: dict[str, Any]) -> None:
    # (found: 400 malformed JSON answered by routes that did not document it)
    for route, operation in _operations(document):
        if "requestBody" in operation:
            for status in ("400", "415"):
                content = operation["responses"][status]["content"]
                assert list(content) == ["application/problem+json"], (route.route_key, status)


def test_a_response_without_a_body_documents_no_content_type(document: dict[str, Any]) -> None:
    # (found: 204 documented as application/json with a null body)
    for route, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status == "204" or status.startswith("3"):
                assert response["content"] == {}, (route.route_key, status)
            if status == "422":
                assert list(response["content"]) == ["application/problem+json"], route.route_key


# ------------------------------------------------------------------ the local stack and cards


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "PROPFIND"])
def test_the_local_gateway_answers_unrouted_methods_as_api_gateway_does(fuzz_target: FuzzTarget, method: str) -> None:
    # (found: http.server's own HTML 501)
    response = httpx.request(method, f"{fuzz_target.base_url}/v1/plans")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_a_card_added_removed_and_added_again_is_on_the_account(api: httpx.Client) -> None:
    # Given an account that added a test card and removed it
    def add() -> httpx.Response:
        return api.post(
            "/v1/billing/payment-methods",
            json={"payment_method": "pm_card_visa"},
            headers={"idempotency-key": str(uuid.uuid4())},
        )

    first = add()
    assert first.status_code == 201, first.text
    assert api.delete(f"/v1/billing/payment-methods/{first.json()['payment_method']['id']}").status_code == 204

    # When it adds the same test card again, Then it is on the account (found: a 500: the
    # attach idempotency key named the card, not the request)
    again = add()
    assert again.status_code == 201, again.text
