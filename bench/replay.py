"""Recorded HTTP answers, replayed: what AWS and Stripe answered a function once, given back to it
at the HTTP layer on the loopback interface.

A function reaches AWS through `AWS_ENDPOINT_URL` and Stripe through `STRIPE_API_BASE`, so
botocore and stripe-python serialize, sign, send and parse every request as they do in Lambda;
only the other end is local. Recording (`Recorder`) forwards each request to a real server
(moto, the Stripe simulator served over HTTP) and keeps the exchange; replaying (`Replayer`)
answers each request with the recorded exchange it matches, at once.

A request matches the first unused recorded exchange with the same method, the same operation
(`X-Amz-Target` for AWS's JSON protocols) and the same path once every segment holding a digit
is masked (ids, keys and names made per run: `/v1/customers/*`, `/schedules/*/*`). A request
that matches nothing gets a 599 and is reported, so a function whose calls changed since its
recording fails loudly rather than being timed on an error answer.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

HOST = "127.0.0.1"
# Headers that describe one connection or one encoding, not the answer: never replayed as recorded.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"})
# Bodies larger than this are not kept in a recording: it names them, and the bench supplies them.
LARGE_BODY = 256 * 1024


def request_key(method: str, path: str, target: str | None) -> str:
    """What a request is matched on: method, operation and the path's shape."""
    route = urlsplit(path).path
    shape = "/".join("*" if any(c.isdigit() for c in segment) else segment for segment in route.split("/"))
    return f"{method} {shape} {target or ''}".strip()


@dataclass
class Exchange:
    """One request and the answer it got, as a recording keeps it (JSON-ready)."""

    key: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    body_ref: str | None = None  # a large body the bench supplies: its name and its sha256
    body_sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "status": self.status, "headers": self.headers}
        if self.body_ref is not None:
            data.update(body_ref=self.body_ref, body_sha256=self.body_sha256)
            return data
        try:
            data["body"] = self.body.decode()  # readable where it is text (JSON, XML)
        except UnicodeDecodeError:
            data["body_base64"] = base64.b64encode(self.body).decode()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        body = data["body"].encode() if "body" in data else base64.b64decode(data.get("body_base64", ""))
        return cls(
            key=data["key"],
            status=data["status"],
            headers=[(name, value) for name, value in data["headers"]],
            body=body,
            body_ref=data.get("body_ref"),
            body_sha256=data.get("body_sha256"),
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        key = request_key(self.command, self.path, self.headers.get("X-Amz-Target"))
        status, headers, payload = self.server.answer(key, self.command, self.path, dict(self.headers.items()), body)
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return None


Answer = tuple[int, list[tuple[str, str]], bytes]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: Callable[[str, str, str, dict[str, str], bytes], Answer]) -> None:
        super().__init__((HOST, 0), _Handler)
        self.answer = answer


class _Served:
    """An HTTP server on the loopback interface, in a thread of this process."""

    def __init__(self) -> None:
        self._server = _Server(self.answer)
        self._thread = threading.Thread(target=self._server.serve_forever, name=type(self).__name__, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, key: str, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


@dataclass
class Upstream:
    """Where a recorder forwards a request: `url` for the requests `accepts`."""

    url: str
    accepts: Callable[[str, dict[str, str]], bool]


class Recorder(_Served):
    """Forwards every request to its upstream and keeps each exchange, in the order answered."""

    def __init__(self, upstreams: list[Upstream], large_bodies: dict[str, str] | None = None) -> None:
        super().__init__()
        self.upstreams = upstreams
        # sha256 of a large body → its name (bodies the bench can supply itself)
        self.large_bodies = dict(large_bodies or {})
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def answer(self, key: str, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        upstream = next(u for u in self.upstreams if u.accepts(path, headers))
        target = urlsplit(upstream.url)
        connection = http.client.HTTPConnection(target.hostname or HOST, target.port, timeout=60)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in {"host", "connection"}}
            connection.request(method, path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            payload = response.read()
            answered = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            status = response.status
        finally:
            connection.close()
        exchange = Exchange(key, status, answered)
        digest = hashlib.sha256(payload).hexdigest()
        if len(payload) > LARGE_BODY:
            if digest not in self.large_bodies:
                raise RuntimeError(f"{key}: a {len(payload):,}-byte answer the bench cannot supply")
            exchange.body_ref, exchange.body_sha256 = self.large_bodies[digest], digest
        else:
            exchange.body = payload
        with self._lock:
            self.exchanges.append(exchange)
        return status, answered, payload


@dataclass
class Script:
    """The recorded exchanges of one run, with the large bodies the recording names."""

    exchanges: list[Exchange]
    bodies: dict[str, bytes] = field(default_factory=dict)


class Replayer(_Served):
    """Answers each request with the recorded exchange it matches (`load` a script per run)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._script = Script([])
        self._used: list[bool] = []
        self.unmatched: list[str] = []

    def load(self, script: Script) -> None:
        with self._lock:
            self._script = script
            self._used = [False] * len(script.exchanges)
            self.unmatched = []

    def unused(self) -> list[str]:
        """The recorded exchanges the last run did not ask for."""
        with self._lock:
            return [e.key for e, used in zip(self._script.exchanges, self._used, strict=True) if not used]

    def answer(self, key: str, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            for index, exchange in enumerate(self._script.exchanges):
                if not self._used[index] and exchange.key == key:
                    self._used[index] = True
                    break
            else:
                self.unmatched.append(key)
                return 599, [("Content-Type", "text/plain")], f"no recorded answer for {key}".encode()
        payload = exchange.body if exchange.body_ref is None else self._script.bodies[exchange.body_ref]
        return exchange.status, exchange.headers, payload
