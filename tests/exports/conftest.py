"""Export fixtures: the billing fixtures (Stripe simulator, webhook deliveries) for accounts with
a real billing history, and statements served over HTTP as Stripe serves them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from account_billing.core.wiring import providing
from account_billing.exports.statements import FetchStatement, StatementUnavailable, statement_fetcher
from tests.billing.conftest import billing, lifecycle, stripe_sim

__all__ = ["billing", "lifecycle", "stripe_sim"]


class Statements:
    """Stripe's statement downloads: each address gives its PDF, unless it is made to fail."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        self.fetched: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        if any(part in url for part in self.failing):
            raise StatementUnavailable("HTTPError")
        return b"%PDF-1.4\n% statement for " + url.encode() + b"\n%%EOF\n"


@pytest.fixture
def statements() -> Iterator[Statements]:
    fake = Statements()
    fetch: FetchStatement = fake
    with providing(statement_fetcher, fetch):
        yield fake
