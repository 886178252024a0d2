"""The local HTTP API: a threaded HTTP server on loopback that plays API Gateway in front of the
functions (routing, JWT authorizer, CORS, payload limits, proxy integration), plus the local
stack's own pages (`/openapi.json`, `/docs`, `/_local/...`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.apigw import (
    ApiContext,
    Cors,
    HttpRequest,
    HttpResponse,
    MalformedResponse,
    RouteTable,
    forbidden,
    http_event,
    internal_error,
    not_found,
    proxy_response,
    request_id,
    too_large,
    unauthorized,
)
from local.auth import Forbidden, JwtAuthorizer, Unauthorized
from local.config import MAX_REQUEST_BYTES
from local.functions import FunctionRuntime, InvocationError, PayloadTooLarge
from local.telemetry import Telemetry
from local.template import HttpRoute

log = logging.getLogger("local")

# A handler of the local stack's own pages: a response, or None when the path is not one of them.
LocalPages = Callable[[HttpRequest], HttpResponse | None]


class PortInUseError(OSError):
    """The API port is taken."""


class RequestTooLarge(Exception):
    """The request body is over API Gateway's payload limit."""


class Gateway:
    """Turns an HTTP request into a response, as API Gateway and Lambda would."""

    def __init__(
        self,
        routes: RouteTable,
        runtime: FunctionRuntime,
        api: ApiContext,
        *,
        authorizers: Mapping[str, JwtAuthorizer],
        cors: Cors | None = None,
        local_pages: LocalPages | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.routes = routes
        self.runtime = runtime
        self.api = api
        self.authorizers = dict(authorizers)
        self.cors = cors
        self.local_pages = local_pages
        self.telemetry = telemetry

    def handle(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """The response, and what served it (a function's logical id, "gateway" or "local")."""
        rid = request_id()
        started, clock = time.time(), time.monotonic()
        response, served_by = self._route(request, rid)
        if self.cors is not None and served_by not in ("local", "cors"):
            response = self.cors.decorate(request, response)
        response.headers.append(("Apigw-Requestid", rid))
        if self.telemetry is not None and served_by not in ("local", "cors"):
            match = self.routes.match(request.method, request.raw_path)
            route_key = match.route.route_key if match else None
            latency_ms = (time.monotonic() - clock) * 1000
            self.telemetry.request(
                request, response, request_id=rid, route_key=route_key, latency_ms=latency_ms, started=started
            )
        return response, served_by

    def _route(self, request: HttpRequest, rid: str) -> tuple[HttpResponse, str]:
        if self.cors is not None and Cors.is_preflight(request):
            return self.cors.preflight(request), "cors"
        match = self.routes.match(request.method, request.raw_path)
        if match is None:
            page = self.local_pages(request) if self.local_pages else None
            return (page, "local") if page is not None else (not_found(), "gateway")
        try:
            authorizer_context = self._authorize(request, match.route)
        except Unauthorized as exc:
            return unauthorized(exc.www_authenticate), "gateway"
        except Forbidden:
            return forbidden(), "gateway"
        event = http_event(request, match, self.api, authorizer=authorizer_context, request_id=rid)
        return self._integrate(match.route.function, event), match.route.function

    def _authorize(self, request: HttpRequest, route: HttpRoute) -> dict[str, Any] | None:
        """The authorizer's context for the event; None on a public route."""
        if route.public:
            return None
        authorizer = self.authorizers.get(route.authorizer or "")
        if authorizer is None:
            raise LookupError(f"route {route.route_key} names authorizer {route.authorizer}: not in the template")
        return authorizer.authorize(dict(_lower(request.headers)), route.scopes)

    def _integrate(self, function: str, event: dict[str, Any]) -> HttpResponse:
        """The Lambda proxy integration: the function's result as the HTTP response."""
        started, error = time.monotonic(), None
        try:
            return proxy_response(self.runtime.invoke(function, event))
        except PayloadTooLarge:
            error = "The request is over Lambda's payload limit"
            return too_large()
        except InvocationError as exc:
            error = f"The Lambda function failed: {exc}"
            return internal_error()  # the traceback is in the local log only
        except MalformedResponse as exc:
            error = "The Lambda function returned a malformed response"
            log.error("%s returned a malformed response: %s", function, exc)
            return internal_error()
        finally:
            if self.telemetry is not None:
                self.telemetry.integration(event, (time.monotonic() - started) * 1000, error)


def _lower(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(name.lower(), []).append(value)
    return [(name, ",".join(values)) for name, values in merged.items()]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-api-gateway"
    timeout = 120  # an idle keep-alive connection is closed after this
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request is logged by `_serve`

    def version_string(self) -> str:
        return self.server_version

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BYTES:
                    self.close_connection = True  # the rest of the chunked body is never read
                    raise RequestTooLarge
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._discard(length)
            raise RequestTooLarge
        return self.rfile.read(length) if length else b""

    def _discard(self, length: int) -> None:
        """Read and drop an oversized body, so the client reads the 413 rather than a reset
        (beyond a few times the limit, the connection is just closed)."""
        if length > 4 * MAX_REQUEST_BYTES:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def _serve(self) -> None:
        started = time.monotonic()
        try:
            body = self._read_body()
        except RequestTooLarge:
            response, served_by = too_large(), "gateway"
        else:
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                client_ip=self.client_address[0],
                protocol=self.request_version,
            )
            try:
                response, served_by = self.server.gateway.handle(request)
            except Exception:
                log.exception("the local gateway failed on %s %s", self.command, self.path)
                response, served_by = internal_error(), "gateway"
        self._write(response)
        elapsed = (time.monotonic() - started) * 1000
        log.info("%s %s %d %.0f ms %s", self.command, self.path, response.status, elapsed, served_by)

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY...) reaches the gateway too, which answers 404 as API
        # Gateway does when no route has it (http.server would answer its own HTML 501).
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    gateway: Gateway


class HttpServer:
    """The gateway on a loopback port. Binding happens at construction, so a busy port is known
    before anything else starts."""

    def __init__(self, host: str, port: int) -> None:
        try:
            self._server = _Server((host, port), _RequestHandler, bind_and_activate=True)
        except OSError as exc:
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise PortInUseError(exc.errno, f"port {port} on {host} is already in use") from exc
            raise
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def serving(self) -> bool:
        return self._thread is not None

    def serve(self, gateway: Gateway) -> None:
        self._server.gateway = gateway
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="local-gateway", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
