"""DESIGN §10: at most 2 DynamoDB requests per API call and never a Scan; the exempt routes
(deletion, money-moving routes, Stripe's webhook) make exactly the requests their justification
counts, on their most expensive path.

Counts requests, not time: the same scenarios `make bench` prints, asserted here.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest

from local.template import http_routes, load_template
from tests.support import dynamodb_requests


@pytest.fixture
def measured() -> Iterator[list[tuple[str, int, int, Counter[str]]]]:
    saved = dict(os.environ)
    try:
        yield dynamodb_requests.measure()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_every_route_answers_within_the_request_budget(measured: list[tuple[str, int, int, Counter[str]]]) -> None:
    assert {route for route, *_ in measured} == {r.route_key for r in http_routes(load_template())}
    for route, status, requests, operations in measured:
        assert status < 300 or status == 302, route  # each scenario exercises the route's success (302: redirect)
        assert "Scan" not in operations, route
        if route in dynamodb_requests.EXEMPT:
            assert requests == dynamodb_requests.EXEMPT[route][0], (route, operations)
        else:
            assert requests <= dynamodb_requests.BUDGET, (route, operations)
