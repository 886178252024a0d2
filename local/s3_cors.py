"""Browsers talking to the local S3 get the answers S3 gives them under the bucket's CORS rules.

moto's server adds `Access-Control-Allow-Origin: *` to nearly every answer (flask-cors) and
answers a preflight with the first rule whose origin matches, so any web page could upload.
S3 decides as the Amazon S3 user guide says ("How Amazon S3 evaluates the CORS configuration on
a bucket"): the first rule that matches the request is used, and a rule matches when

- the `Origin` matches one of its `AllowedOrigins` (each may hold one `*` wildcard),
- the method (for a preflight, `Access-Control-Request-Method`) is one of its `AllowedMethods`,
- for a preflight, every header of `Access-Control-Request-Headers` matches one of its
  `AllowedHeaders` (each may hold one `*` wildcard; header names compare case-insensitively).

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) that matches answers
200 with the rule's methods, the requested headers, its exposed headers and max age; one that
does not answers 403 `AccessForbidden` ("CORSResponse: ..."), as does a preflight on a bucket
without CORS configuration. Any other request with an `Origin` reaches moto, and its answer
carries the `Access-Control-*` headers of the matching rule, or none.

`MotoServer` is moto's `ThreadedMotoServer` with this check in front of it (a WSGI
middleware): only requests with an `Origin` header to a path naming one of moto's buckets
(path-style, as the local stack addresses them) are concerned.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

type StartResponse = Callable[..., Any]
type WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
    "by the resource's CORS spec."
)
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."


@dataclass(frozen=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    exposed_headers: tuple[str, ...] = ()
    max_age: int | None = None

    @classmethod
    def of(cls, rule: Any) -> CorsRule:
        """From one of moto's bucket CORS rules."""

        def strings(value: Any) -> tuple[str, ...]:
            if value is None:
                return ()
            return (value,) if isinstance(value, str) else tuple(str(item) for item in value)

        max_age = getattr(rule, "max_age_seconds", None)
        return cls(
            allowed_origins=strings(rule.allowed_origins),
            allowed_methods=strings(rule.allowed_methods),
            allowed_headers=strings(rule.allowed_headers),
            exposed_headers=strings(rule.exposed_headers),
            max_age=int(max_age) if max_age not in (None, "") else None,
        )

    def allows(self, origin: str, method: str, headers: Sequence[str] = ()) -> bool:
        return (
            any(_wildcard(pattern, origin) for pattern in self.allowed_origins)
            and method in self.allowed_methods
            and all(any(_wildcard(p.lower(), h.lower()) for p in self.allowed_headers) for h in headers)
        )

    def answer_origin(self, origin: str) -> str:
        return "*" if self.allowed_origins == ("*",) else origin


def _wildcard(pattern: str, value: str) -> bool:
    """S3's patterns: literal text with at most one `*` matching any run of characters."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]").replace("?", "[?]"))


def first_match(rules: Sequence[CorsRule], origin: str, method: str, headers: Sequence[str] = ()) -> CorsRule | None:
    return next((rule for rule in rules if rule.allows(origin, method, headers)), None)


def _requested_headers(value: str | None) -> list[str]:
    return [name.strip() for name in (value or "").split(",") if name.strip()]


def _forbidden(message: str, method: str) -> tuple[str, list[tuple[str, str]], bytes]:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>AccessForbidden</Code><Message>{escape(message)}</Message><Method>{escape(method)}</Method>"
        f"<ResourceType>OBJECT</ResourceType><RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
    )
    return "403 Forbidden", [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body.encode()


def preflight(
    rules: Sequence[CorsRule] | None, origin: str, method: str, headers: Sequence[str]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """S3's answer to a preflight on a bucket with these rules (None: no CORS configuration)."""
    if not rules:
        return _forbidden(NOT_ENABLED, method)
    rule = first_match(rules, origin, method, headers)
    if rule is None:
        return _forbidden(NOT_ALLOWED, method)
    answer = [
        ("Access-Control-Allow-Origin", rule.answer_origin(origin)),
        ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods)),
        ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    ]
    if headers:
        answer.append(("Access-Control-Allow-Headers", ", ".join(h.lower() for h in headers)))
    if rule.exposed_headers:
        answer.append(("Access-Control-Expose-Headers", ", ".join(rule.exposed_headers)))
    if rule.max_age is not None:
        answer.append(("Access-Control-Max-Age", str(rule.max_age)))
    if rule.answer_origin(origin) != "*":
        answer.append(("Access-Control-Allow-Credentials", "true"))
    return "200 OK", answer, b""


def actual_headers(rules: Sequence[CorsRule] | None, origin: str, method: str) -> list[tuple[str, str]]:
    """The CORS headers S3 adds to the answer of a (non-preflight) request from `origin`."""
    rule = first_match(rules or (), origin, method)
    if rule is None:
        return []
    headers = [
        ("Access-Control-Allow-Origin", rule.answer_origin(origin)),
        ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods)),
        ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    ]
    if rule.exposed_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule.exposed_headers)))
    if rule.max_age is not None:
        headers.append(("Access-Control-Max-Age", str(rule.max_age)))
    if rule.answer_origin(origin) != "*":
        headers.append(("Access-Control-Allow-Credentials", "true"))
    return headers


def bucket_rules(bucket: str) -> list[CorsRule] | None:
    """The CORS rules of one of moto's buckets (None: no such bucket)."""
    from moto.s3.models import s3_backends  # noqa: PLC0415 -- moto's backends load on first use

    for account in list(s3_backends):
        found = s3_backends[account]["global"].buckets.get(bucket)
        if found is not None:
            return [CorsRule.of(rule) for rule in found.cors]
    return None


class CorsMiddleware:
    """S3's CORS decisions in front of moto's WSGI application."""

    def __init__(self, app: WsgiApp, rules_of: Callable[[str], list[CorsRule] | None] = bucket_rules) -> None:
        self.app = app
        self.rules_of = rules_of

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        bucket = unquote(str(environ.get("PATH_INFO") or "/")).lstrip("/").split("/", 1)[0]
        rules = self.rules_of(bucket) if origin and bucket else None
        if origin is None or rules is None:
            return self.app(environ, start_response)
        method = str(environ.get("REQUEST_METHOD") or "GET").upper()
        requested_method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if method == "OPTIONS" and requested_method:
            headers = _requested_headers(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"))
            status, answer, body = preflight(rules, origin, requested_method, headers)
            start_response(status, [*answer, ("Content-Length", str(len(body)))])
            return [body]
        cors = actual_headers(rules, origin, method)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if not name.lower().startswith("access-control-")]
            return start_response(status, [*kept, *cors], exc_info)

        return self.app(environ, start)


class MotoServer(ThreadedMotoServer):
    """moto's threaded server, answering browsers as S3 does under each bucket's CORS rules."""

    def _server_entry(self) -> None:
        app = CorsMiddleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, True)
        self._server_ready_event.set()
        self._server.serve_forever()
