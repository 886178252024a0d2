"""Fetching a statement over HTTP as the export function does in production: the PDF's bytes, or
`StatementUnavailable` (the manifest lists it) for an error answer, another scheme, or a body
larger than the limit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from account_billing.exports import statements
from account_billing.exports.statements import StatementUnavailable, fetch_over_http

PDF = b"%PDF-1.4\n" + b"0" * 4096 + b"\n%%EOF\n"


class Stripe(BaseHTTPRequestHandler):
    """Statement downloads: /invoice/<token>/pdf gives the PDF; anything else is 404."""

    def do_GET(self) -> None:
        if self.path.startswith("/invoice/") and "/pdf" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(PDF)))
            self.end_headers()
            self.wfile.write(PDF)
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def files() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stripe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_statement_is_its_pdf(files: str) -> None:
    assert fetch_over_http(f"{files}/invoice/acct_x/test_abc/pdf?s=ap") == PDF


def test_a_missing_statement_is_unavailable(files: str) -> None:
    with pytest.raises(StatementUnavailable, match="HTTPError"):
        fetch_over_http(f"{files}/invoice/acct_x/gone")


def test_only_http_addresses_are_fetched() -> None:
    with pytest.raises(StatementUnavailable, match="not an HTTP address"):
        fetch_over_http("file:///etc/passwd")


def test_a_statement_past_the_size_limit_is_unavailable(files: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statements, "MAX_STATEMENT_BYTES", 1024)

    with pytest.raises(StatementUnavailable, match="larger than"):
        fetch_over_http(f"{files}/invoice/acct_x/test_abc/pdf")
