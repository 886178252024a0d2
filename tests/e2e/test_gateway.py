"""The local API Gateway: the template's routes and nothing else, API Gateway's own answers,
the payload 2.0 event a request becomes, and the response a result becomes."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from local.template import http_routes, load_template
from tests.e2e.conftest import ECHO_AUDIENCE, ECHO_ISSUER, Caller

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

GATEWAY_NOT_FOUND = {"message": "Not Found"}
TEMPLATE_ROUTES = [route.route_key for route in http_routes(load_template())]


def concrete(path: str) -> str:
    """A request path for a route path: every `{param}` filled in."""
    return re.sub(r"\{(\w+)\+?\}", lambda m: f"{m[1]}-value", path)


@pytest.mark.parametrize("route_key", TEMPLATE_ROUTES)
def test_every_route_of_the_template_reaches_its_function(
    stack: LocalStack, api: httpx.Client, caller: Caller, route_key: str
) -> None:
    method, path = route_key.split(" ", 1)

    response = api.request(method, concrete(path), headers=caller.auth, json={})

    # whatever the function made of an empty request, the gateway routed it there
    assert response.json() != GATEWAY_NOT_FOUND
    assert response.status_code not in (401, 403, 500)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/v1/nothing-here", id="unknown path"),
        pytest.param("GET", "/", id="root"),
        pytest.param("PATCH", "/v1/account", id="unknown method on a known path"),
        pytest.param("GET", "/v1/account/", id="trailing slash"),
        pytest.param("GET", "/V1/ACCOUNT", id="paths are case-sensitive"),
        pytest.param("GET", "/v1/users/a/b", id="a parameter is one segment"),
    ],
)
def test_nothing_else_is_served(api: httpx.Client, caller: Caller, method: str, path: str) -> None:
    response = api.request(method, path, headers=caller.auth)

    assert response.status_code == 404
    assert response.json() == GATEWAY_NOT_FOUND


def test_a_body_over_10_mb_gets_413(api: httpx.Client, caller: Caller) -> None:
    response = api.post(
        "/v1/account", content=b"x" * (10 * 1024 * 1024 + 1), headers={**caller.auth, "content-type": "text/plain"}
    )

    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}


def test_a_handler_that_raises_gets_api_gateways_500_and_the_traceback_stays_in_the_log(
    echo_stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    response = httpx.get(f"{echo_stack.base_url}/boom")

    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}
    assert "secret detail" not in response.text
    assert "RuntimeError: a secret detail" in caplog.text  # the local log has the traceback


def test_a_function_whose_init_fails_gets_500_and_the_others_still_work(echo_stack: LocalStack) -> None:
    broken = httpx.get(f"{echo_stack.base_url}/broken")
    working = httpx.post(f"{echo_stack.base_url}/plain", json={})

    assert echo_stack.runtime is not None
    assert echo_stack.runtime.broken == ["Broken"]
    assert broken.status_code == 500
    assert broken.json() == {"message": "Internal Server Error"}
    assert working.status_code == 200


def test_an_event_over_lambdas_6_mb_limit_gets_413(echo_stack: LocalStack, received: list[dict[str, Any]]) -> None:
    # 5 MB of binary is 6.7 MB once base64-encoded in the event: under API Gateway's limit, over Lambda's
    response = httpx.put(
        f"{echo_stack.base_url}/files/big.bin",
        content=b"\x00" * (5 * 1024 * 1024),
        headers={"content-type": "image/png"},
    )

    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}
    assert received == []


def test_a_result_that_is_not_a_response_gets_500(echo_stack: LocalStack) -> None:
    response = httpx.get(f"{echo_stack.base_url}/malformed")

    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_openapi_and_docs_are_served(stack: LocalStack, api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    page = api.get("/docs")
    script = api.get("/docs/swagger-ui-bundle.min.js")

    documented = {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops}
    assert documented == set(TEMPLATE_ROUTES)
    assert document["servers"][0]["url"] == stack.base_url
    assert document["paths"]["/v1/users/{user_id}"]["get"]["security"] == []
    assert document["security"] == [{"jwt": []}]
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text
    assert "/docs/swagger-ui-bundle.min.js" in page.text  # served locally: works offline
    assert script.status_code == 200
    assert len(script.content) > 100_000


def test_the_stack_starts_again_beside_a_running_one_with_its_own_state(
    stack: LocalStack, api: httpx.Client, caller: Caller, account: httpx.Response, tmp_path: Any
) -> None:
    # Given a second stack started while the first runs, then a third on the second's port
    with LocalStack(state_dir=tmp_path) as second:
        token = second.issue_token(caller.sub)
        on_second = httpx.get(f"{second.base_url}/v1/account", headers={"Authorization": f"Bearer {token}"})
        port = second.port
        assert second.port != stack.port
        assert second.moto_url != stack.moto_url
        assert set(second.describe()["resources"]["AWS::DynamoDB::Table"].values()).isdisjoint(
            stack.describe()["resources"]["AWS::DynamoDB::Table"].values()
        )
    with LocalStack(port=port, state_dir=tmp_path) as third:
        on_third = httpx.get(f"{third.base_url}/v1/account", headers={"Authorization": f"Bearer {token}"})

    # Then neither saw the first stack's account, which is still there
    assert on_second.status_code == 404
    assert on_third.status_code == 404
    assert api.get("/v1/account", headers=caller.auth).json()["user_id"] == caller.user_id


# ---------------------------------------------------------------------------- the event and response
def echo_token(stack: LocalStack, **claims: Any) -> str:
    return stack.issue_token("echo-user", **claims)


def test_a_request_becomes_an_http_api_v2_event(echo_stack: LocalStack, received: list[dict[str, Any]]) -> None:
    token = echo_token(echo_stack, groups=["admin", "dev"], level=3, beta=False)

    response = httpx.get(
        f"{echo_stack.base_url}/items/caf%C3%A9?tag=a&tag=b&empty=&q=x%20y",
        headers=[
            ("Authorization", f"Bearer {token}"),
            ("X-Repeated", "one"),
            ("X-Repeated", "two"),
            ("Cookie", "session=abc; theme=dark"),
            ("User-Agent", "e2e-test"),
        ],
    )

    assert response.status_code == 200
    event = response.json()
    assert event == received[-1]["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/caf%C3%A9"
    assert event["rawQueryString"] == "tag=a&tag=b&empty=&q=x%20y"
    assert event["queryStringParameters"] == {"tag": "a,b", "empty": "", "q": "x y"}
    assert event["pathParameters"] == {"id": "café"}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["headers"]["x-repeated"] == "one,two"
    assert "cookie" not in event["headers"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/items/caf%C3%A9",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "e2e-test",
    }
    assert context["routeKey"] == "GET /items/{id}"
    assert context["stage"] == "$default"
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == echo_stack.api_id
    assert response.headers["apigw-requestid"] == context["requestId"]
    assert re.fullmatch(r"\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["time"])
    claims = context["authorizer"]["jwt"]["claims"]
    # every claim a string, as the HTTP API's JWT authorizer passes them
    assert claims["sub"] == "echo-user"
    assert claims["iss"] == ECHO_ISSUER  # the template's authorizer configuration
    assert claims["aud"] == ECHO_AUDIENCE
    assert claims["groups"] == "[admin dev]"
    assert claims["level"] == "3"
    assert claims["beta"] == "false"
    assert claims["email_verified"] == "true"
    assert claims["exp"].isdigit()
    assert context["authorizer"]["jwt"]["scopes"] is None


def test_the_function_runs_with_its_template_environment_and_a_lambda_context(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    httpx.post(f"{echo_stack.base_url}/plain", json={})

    call = received[-1]
    names = echo_stack.describe()["resources"]
    assert call["environment"] == {
        "TABLE_NAME": names["AWS::DynamoDB::Table"]["Table"],
        "BUCKET": names["AWS::S3::Bucket"]["Uploads"],
        "QUEUE_URL": echo_stack.client("sqs").get_queue_url(QueueName=names["AWS::SQS::Queue"]["Jobs"])["QueueUrl"],
        "GREETING": "hello, world",
        "STACK": echo_stack.stack_name,
        "CDN_URL": f"{echo_stack.base_url}/_local/cdn/Cdn",
        "AWS_ENDPOINT_URL": echo_stack.moto_url,
        "AWS_REGION": echo_stack.region,
    }
    assert call["function_name"] == f"{echo_stack.stack_name}-Echo"
    assert 0 < call["remaining_ms"] <= 5000


def test_a_binary_body_reaches_the_function_base64_encoded(
    echo_stack: LocalStack, received: list[dict[str, Any]]
) -> None:
    payload = bytes(range(256))

    httpx.put(f"{echo_stack.base_url}/files/a/b.bin", content=payload, headers={"content-type": "image/png"})

    event = received[-1]["event"]
    assert event["routeKey"] == "ANY /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b.bin"}
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    assert "authorizer" not in event["requestContext"]  # a public route


def test_a_text_body_reaches_the_function_as_text(echo_stack: LocalStack, received: list[dict[str, Any]]) -> None:
    httpx.post(f"{echo_stack.base_url}/files/notes", json={"note": "héllo"})

    event = received[-1]["event"]
    assert event["isBase64Encoded"] is False
    assert event["body"] == '{"note":"héllo"}'


def test_the_response_keeps_status_headers_cookies_and_binary_body(echo_stack: LocalStack) -> None:
    response = httpx.get(f"{echo_stack.base_url}/binary")

    assert response.status_code == 201
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-multi"] == "a,b"
    assert response.headers.get_list("set-cookie") == ["session=abc; Path=/; HttpOnly", "theme=dark"]
    assert response.content == b"\x89PNG\r\n\x1a\n\x00\xff"


def test_a_result_without_status_code_is_sent_as_json(echo_stack: LocalStack) -> None:
    response = httpx.post(f"{echo_stack.base_url}/plain", json={})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"greeting": "hello, world"}


def test_a_route_with_scopes_needs_one_of_them(echo_stack: LocalStack) -> None:
    without = httpx.get(f"{echo_stack.base_url}/admin", headers={"Authorization": f"Bearer {echo_token(echo_stack)}"})
    scoped = echo_token(echo_stack, scope="read admin")
    granted = httpx.get(f"{echo_stack.base_url}/admin", headers={"Authorization": f"Bearer {scoped}"})

    assert without.status_code == 403
    assert without.json() == {"message": "Forbidden"}
    assert granted.status_code == 200
    assert granted.json()["requestContext"]["authorizer"]["jwt"]["scopes"] == ["read", "admin"]


def test_cors_follows_the_templates_configuration(echo_stack: LocalStack) -> None:
    origin = "https://app.example.test"

    preflight = httpx.options(
        f"{echo_stack.base_url}/items/1",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    allowed = httpx.post(f"{echo_stack.base_url}/plain", json={}, headers={"Origin": origin})
    foreign = httpx.post(f"{echo_stack.base_url}/plain", json={}, headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-max-age"] == "600"
    assert allowed.headers["access-control-allow-origin"] == origin
    assert allowed.headers["access-control-expose-headers"] == "etag"
    assert "access-control-allow-origin" not in foreign.headers
