"""The simulator over HTTP on the loopback interface, as a stripe-mock is run: point
stripe-python's API base at `SimulatorServer.url` (`StripeClient(..., base_addresses={"api":
url})`, the service's STRIPE_API_BASE) and every request is answered by the simulator, through
stripe-python's own HTTP client. A simulated timeout drops the connection without an answer.

    with SimulatorServer(Simulator()) as server:
        stripe.StripeClient("sk_test_x", base_addresses={"api": server.url})
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from .core import SimulatedTimeout, Simulator
from .hosted import page_at


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _answer(self) -> None:
        if self.command == "GET" and self._hosted():
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        url = f"http://{self.headers.get('Host', 'localhost')}{self.path}"
        try:
            response = self.server.simulator.handle(self.command, url, dict(self.headers.items()), body)
        except SimulatedTimeout:
            self.close_connection = True  # the answer is lost: the client sees the connection drop
            return
        payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _hosted(self) -> bool:
        """A page Stripe hosts (statement, hosted invoice, receipt): no API key, the link is the
        secret. False if the path is not one."""
        page = page_at(self.server.simulator, urlsplit(self.path).path)
        if page is None:
            return False
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        self.wfile.write(page.body)
        return True

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator


class SimulatorServer:
    """`simulator` served on `host` (a free port unless `port` is given) until `stop()`."""

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self._server = _Server((host, port), simulator)
        self._thread = threading.Thread(target=self._server.serve_forever, name="stripe-simulator", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        if self.simulator.files_base is None:
            self.simulator.files_base = self.url  # statements are downloaded from here
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
