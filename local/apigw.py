"""API Gateway HTTP API behaviour, without sockets: route selection, the payload 2.0 event a
request becomes, the HTTP response a Lambda proxy result becomes, CORS, and the gateway's own
answers (404, 401, 403, 413, 500 with API Gateway's bodies)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.template import HttpRoute


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query, as sent
    headers: list[tuple[str, str]]
    body: bytes = b""
    client_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def raw_path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def raw_query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        """A header's value, repeated headers comma-joined, as API Gateway passes them."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


def gateway_response(status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    """A response API Gateway itself sends: `{"message": ...}`."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), *headers], body)


def not_found() -> HttpResponse:
    return gateway_response(404, "Not Found")


def unauthorized(www_authenticate: str) -> HttpResponse:
    return gateway_response(401, "Unauthorized", [("WWW-Authenticate", www_authenticate)])


def forbidden() -> HttpResponse:
    return gateway_response(403, "Forbidden", [("WWW-Authenticate", 'Bearer error="insufficient_scope"')])


def too_large() -> HttpResponse:
    return gateway_response(413, "Request Entity Too Large")


def internal_error() -> HttpResponse:
    return gateway_response(500, "Internal Server Error")


# ---------------------------------------------------------------------------- routes
@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


class RouteTable:
    """Selects a route as API Gateway does: the most specific path wins (static segments before
    `{param}`, `{param}` before `{proxy+}`), a method before ANY, `$default` last."""

    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        self.routes = list(routes)
        compiled = [(route, _pattern(route.path)) for route in self.routes if route.path != "$default"]
        compiled.sort(key=lambda item: _specificity(item[0]))
        self._compiled = compiled
        self._default = [route for route in self.routes if route.path == "$default"]

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        candidates = [(route, pattern.fullmatch(raw_path)) for route, pattern in self._compiled]
        for route, found in candidates:
            if found and route.method in (method, "ANY"):
                return RouteMatch(route, {name: unquote(value) for name, value in found.groupdict().items()})
        fallback = next((route for route in self._default if route.method in (method, "ANY")), None)
        return RouteMatch(fallback, {}) if fallback else None


def _pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/"):
        if greedy := re.fullmatch(r"\{(\w+)\+\}", segment):
            parts.append(f"(?P<{greedy[1]}>.+)")
        elif param := re.fullmatch(r"\{(\w+)\}", segment):
            parts.append(f"(?P<{param[1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("/" + "/".join(parts))


def _specificity(route: HttpRoute) -> tuple[int, int, int, int]:
    segments = route.path.strip("/").split("/")
    greedy = any(segment.endswith("+}") for segment in segments)
    static = sum(not segment.startswith("{") for segment in segments)
    return (greedy, -static, -len(segments), route.method == "ANY")


# ---------------------------------------------------------------------------- events
# Bodies of these types reach the function as text; any other body is base64-encoded.
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded|graphql|yaml|x-yaml))$"
)


def is_text(content_type: str | None, body: bytes) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type and not _TEXT_TYPES.match(media_type):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _query_parameters(raw_query: str) -> dict[str, str] | None:
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        values.setdefault(name, []).append(value)
    return {name: ",".join(items) for name, items in values.items()} or None


@dataclass(frozen=True)
class ApiContext:
    """What API Gateway adds about itself: the API's id, account and domain."""

    api_id: str
    account_id: str
    domain_name: str


def request_id() -> str:
    return base64.b64encode(secrets.token_bytes(12)).decode()


def http_event(
    request: HttpRequest,
    match: RouteMatch,
    api: ApiContext,
    *,
    authorizer: dict[str, Any] | None = None,
    request_id: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event of a request on a route."""
    now = time.time() if now is None else now
    headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers.setdefault(name.lower(), []).append(value)
    cookies = [part.strip() for value in headers.pop("cookie", []) for part in value.split(";") if part.strip()]
    headers.setdefault("x-forwarded-for", [request.client_ip])
    headers.setdefault("x-forwarded-proto", ["http"])
    headers.setdefault("x-amzn-trace-id", [f"Root=1-{int(now):08x}-{secrets.token_hex(12)}"])
    route_key = "$default" if match.route.path == "$default" else match.route.route_key
    user_agent = ",".join(headers.get("user-agent", [""]))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = {name: ",".join(values) for name, values in headers.items()}
    if (query := _query_parameters(request.raw_query)) is not None:
        event["queryStringParameters"] = query
    context: dict[str, Any] = {
        "accountId": api.account_id,
        "apiId": api.api_id,
        "domainName": api.domain_name,
        "domainPrefix": api.domain_name.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.client_ip,
            "userAgent": user_agent,
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event["requestContext"] = context
    if request.body:
        if is_text(request.header("content-type"), request.body):
            event["body"] = request.body.decode("utf-8")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    return event


# ---------------------------------------------------------------------------- responses
class MalformedResponse(ValueError):
    """The function's result is not a response API Gateway can send."""


_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}


def proxy_response(result: Any) -> HttpResponse:
    """The HTTP response of a payload 2.0 Lambda result. A result without `statusCode` is taken
    as a JSON body with status 200, as API Gateway does."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(result).encode())
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r}")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        if name.lower() not in _HOP_BY_HOP:
            headers.append((name, _header_value(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if name.lower() not in _HOP_BY_HOP:
            headers.extend((name, _header_value(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise MalformedResponse(f"body of type {type(body).__name__}")
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise MalformedResponse("isBase64Encoded with a body that is not base64") from exc
    else:
        payload = body.encode("utf-8")
    if payload and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status, headers, payload)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------- CORS
@dataclass(frozen=True)
class Cors:
    """The HTTP API's CORS configuration: API Gateway answers preflights itself and sets the
    CORS headers of every response (ignoring those of the function)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_template(cls, config: Any) -> Cors | None:
        if config is True:
            return cls(("*",), ("*",), ("*",))
        if not isinstance(config, Mapping):
            return None

        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(item) for item in config.get(key) or ())

        max_age = config.get("MaxAge")
        return cls(
            allow_origins=strings("AllowOrigins"),
            allow_methods=strings("AllowMethods"),
            allow_headers=strings("AllowHeaders"),
            expose_headers=strings("ExposeHeaders"),
            max_age=int(max_age) if max_age is not None else None,
            allow_credentials=bool(config.get("AllowCredentials", False)),
        )

    def _origin(self, origin: str | None) -> str | None:
        if origin is None:
            return None
        if "*" in self.allow_origins:
            return "*" if not self.allow_credentials else origin
        return origin if origin in self.allow_origins else None

    def preflight(self, request: HttpRequest) -> HttpResponse:
        response = HttpResponse(204)
        origin = self._origin(request.header("origin"))
        method = request.header("access-control-request-method") or ""
        methods = {item.upper() for item in self.allow_methods}
        if origin and ("*" in methods or method.upper() in methods):
            response.headers.append(("Access-Control-Allow-Origin", origin))
            response.headers.append(("Access-Control-Allow-Methods", ",".join(self.allow_methods)))
            if self.allow_headers:
                response.headers.append(("Access-Control-Allow-Headers", ",".join(self.allow_headers)))
            if self.max_age is not None:
                response.headers.append(("Access-Control-Max-Age", str(self.max_age)))
            if self.allow_credentials:
                response.headers.append(("Access-Control-Allow-Credentials", "true"))
        return response

    def decorate(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response.headers = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
        origin = self._origin(request.header("origin"))
        if origin:
            response.headers.append(("Access-Control-Allow-Origin", origin))
            if self.expose_headers:
                response.headers.append(("Access-Control-Expose-Headers", ",".join(self.expose_headers)))
            if self.allow_credentials:
                response.headers.append(("Access-Control-Allow-Credentials", "true"))
        return response

    @staticmethod
    def is_preflight(request: HttpRequest) -> bool:
        return (
            request.method == "OPTIONS"
            and request.header("origin") is not None
            and request.header("access-control-request-method") is not None
        )
