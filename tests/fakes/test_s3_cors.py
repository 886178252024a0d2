"""The local S3's CORS decisions (local/s3_cors.py) against the rules of the Amazon S3 user guide."""

from __future__ import annotations

from typing import Any

from local.s3_cors import NOT_ALLOWED, NOT_ENABLED, CorsMiddleware, CorsRule, actual_headers, first_match, preflight

APP = "https://app.example.com"
UPLOADS = CorsRule(
    allowed_origins=(APP,),
    allowed_methods=("POST",),
    allowed_headers=("*",),
    exposed_headers=("ETag", "Location"),
    max_age=600,
)
READS = CorsRule(
    allowed_origins=("https://*.example.com",), allowed_methods=("GET", "HEAD"), allowed_headers=("x-amz-*",)
)


def test_a_preflight_matching_a_rule_gets_its_methods_the_requested_headers_and_max_age() -> None:
    status, headers, body = preflight([UPLOADS], APP, "POST", ["Content-Type"])

    answer = dict(headers)
    assert status == "200 OK"
    assert body == b""
    assert answer["Access-Control-Allow-Origin"] == APP
    assert answer["Access-Control-Allow-Methods"] == "POST"
    assert answer["Access-Control-Allow-Headers"] == "content-type"
    assert answer["Access-Control-Expose-Headers"] == "ETag, Location"
    assert answer["Access-Control-Max-Age"] == "600"


def test_a_preflight_from_another_origin_or_for_another_method_is_forbidden() -> None:
    for origin, method in (("https://evil.example.net", "POST"), (APP, "PUT"), (APP.upper(), "POST")):
        status, headers, body = preflight([UPLOADS], origin, method, [])

        assert status == "403 Forbidden"
        assert b"<Code>AccessForbidden</Code>" in body
        assert NOT_ALLOWED.encode() in body
        assert not [name for name, _ in headers if name.startswith("Access-Control-")]


def test_every_requested_header_must_match_an_allowed_header() -> None:
    assert first_match([READS], "https://cdn.example.com", "GET", ["X-Amz-Date"]) is READS
    assert first_match([READS], "https://cdn.example.com", "GET", ["x-amz-date", "authorization"]) is None


def test_one_wildcard_in_an_origin_matches_any_run_of_characters_and_nothing_else() -> None:
    assert first_match([READS], "https://a.b.example.com", "GET") is READS
    assert first_match([READS], "https://example.com", "GET") is None
    assert first_match([READS], "http://cdn.example.com", "GET") is None


def test_the_first_matching_rule_decides() -> None:
    both = CorsRule(allowed_origins=("*",), allowed_methods=("GET",))

    assert first_match([READS, both], "https://cdn.example.com", "GET") is READS
    assert first_match([READS, both], "https://other.example.org", "GET") is both
    assert dict(actual_headers([both], "https://other.example.org", "GET"))["Access-Control-Allow-Origin"] == "*"


def test_a_bucket_without_cors_configuration_refuses_every_preflight() -> None:
    status, _, body = preflight([], APP, "POST", [])

    assert status == "403 Forbidden"
    assert NOT_ENABLED.encode() in body


def run(middleware: CorsMiddleware, environ: dict[str, Any]) -> tuple[str, dict[str, str]]:
    seen: dict[str, Any] = {}

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.update(status=status, headers=dict(headers))

    b"".join(middleware(environ, start))
    return seen["status"], seen["headers"]


def permissive_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Like moto's server: `Access-Control-Allow-Origin: *` on every answer."""
    start_response("204 No Content", [("Access-Control-Allow-Origin", "*"), ("ETag", '"abc"')])
    return [b""]


def test_answers_to_browsers_carry_the_rules_headers_not_the_servers_own() -> None:
    middleware = CorsMiddleware(permissive_app, rules_of=lambda bucket: [UPLOADS] if bucket == "avatars" else None)
    upload = {"REQUEST_METHOD": "POST", "PATH_INFO": "/avatars", "HTTP_ORIGIN": APP}

    allowed = run(middleware, upload)
    refused = run(middleware, {**upload, "HTTP_ORIGIN": "https://evil.example.net"})
    other_bucket = run(middleware, {**upload, "PATH_INFO": "/elsewhere"})

    assert allowed == ("204 No Content", {"ETag": '"abc"', **dict(actual_headers([UPLOADS], APP, "POST"))})
    assert refused == ("204 No Content", {"ETag": '"abc"'})  # stored as S3 does, unreadable to the page
    assert other_bucket[1]["Access-Control-Allow-Origin"] == "*"  # not a bucket: left to the server


def test_a_preflight_never_reaches_the_server() -> None:
    middleware = CorsMiddleware(permissive_app, rules_of=lambda bucket: [UPLOADS])
    environ = {
        "REQUEST_METHOD": "OPTIONS",
        "PATH_INFO": "/avatars",
        "HTTP_ORIGIN": "https://evil.example.net",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
    }

    status, headers = run(middleware, environ)

    assert status == "403 Forbidden"
    assert "Access-Control-Allow-Origin" not in headers
