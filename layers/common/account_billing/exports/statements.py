"""Fetching an invoice's statement (the PDF at Stripe's `invoice_pdf` address, which needs no
key: whoever has the link may download it), bounded in size and time."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from account_billing.core.wiring import per_container

MAX_STATEMENT_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 10

# `fetch(url)`: the statement's bytes; raises if they cannot be had.
type FetchStatement = Callable[[str], bytes]


class StatementUnavailable(Exception):
    """The statement could not be fetched (the export records that in its manifest)."""


def fetch_over_http(url: str) -> bytes:
    if urlsplit(url).scheme not in ("https", "http"):
        raise StatementUnavailable("not an HTTP address")
    request = urllib.request.Request(url, headers={"Accept": "application/pdf"})  # noqa: S310 (scheme checked)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            data: bytes = response.read(MAX_STATEMENT_BYTES + 1)
    except OSError as exc:  # URLError, HTTPError, timeouts
        raise StatementUnavailable(type(exc).__name__) from exc
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementUnavailable(f"larger than {MAX_STATEMENT_BYTES} bytes")
    return data


@per_container
def statement_fetcher() -> FetchStatement:
    """How this container fetches statements (tests hand in their own)."""
    return fetch_over_http
