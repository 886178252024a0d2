"""One Stripe rate budget for every container: card flows take their Stripe requests from a
shared counter per second (split over a few counter items) and answer 429 with Retry-After,
before anything happens at Stripe, once a second's budget is spent."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from account_billing.billing.cards.service import ADD_CARD_REQUESTS
from account_billing.billing.context import billing_context
from account_billing.billing.stripe.budget import REQUESTS_PER_COUNTER, StripeBudget, StripeBusy, counters_for
from account_billing.core.ratelimit_windows import WindowCounters
from account_billing.core.wiring import dynamodb_client, providing, reset_containers
from stripe_simulator import Simulator
from tests.support import table
from tests.support.billing import Cards, billing_items, new_context, new_table

pytestmark = pytest.mark.usefixtures("billing")

SECOND = datetime(2026, 11, 28, 14, 0, 0, 500_000, tzinfo=UTC)


def _budget(rate: int, choose: Any = None) -> StripeBudget:
    counters = WindowCounters(new_table(), clock=lambda: SECOND)
    return StripeBudget(counters, rate, **({"choose": choose} if choose else {}))


def test_containers_share_one_budget_a_second() -> None:
    containers = [_budget(10), _budget(10)]  # two containers, each with its own counters object

    containers[0].take(4)
    containers[1].take(4)
    with pytest.raises(StripeBusy) as refused:
        containers[0].take(4)  # 12 > 10: refused, whichever container asks
    containers[1].take(2)  # what is left still goes

    assert refused.value.status == 429
    assert refused.value.headers == {"Retry-After": "1"}
    [counter] = [i for i in table.all_items() if i["PK"].startswith("LIMIT#stripe-calls#")]
    assert counter["count"] == 10  # the refused take counted nothing


def test_a_high_rate_is_split_over_counters_of_a_few_hundred_writes() -> None:
    rate = 3 * REQUESTS_PER_COUNTER
    turns = iter(range(10_000))
    budget = _budget(rate, choose=lambda n: next(turns) % n)  # the counters in turn

    for _ in range(rate // 100):
        budget.take(100)
    with pytest.raises(StripeBusy):
        budget.take(1)

    counters = {i["PK"]: int(i["count"]) for i in table.all_items() if i["PK"].startswith("LIMIT#stripe-calls#")}
    assert counters_for(rate) == len(counters) == 3
    assert set(counters.values()) == {REQUESTS_PER_COUNTER}  # each counter took its share, no more


def test_a_spent_counter_sends_the_request_to_another(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = _budget(2 * REQUESTS_PER_COUNTER, choose=lambda n: 0)  # always the first counter first
    budget.take(REQUESTS_PER_COUNTER)

    budget.take(ADD_CARD_REQUESTS)  # the first is spent: the second takes it

    counters = Counter({i["PK"]: int(i["count"]) for i in table.all_items() if i["PK"].startswith("LIMIT#")})
    assert sorted(counters.values()) == [ADD_CARD_REQUESTS, REQUESTS_PER_COUNTER]


def test_a_spent_budget_answers_429_before_anything_happens_at_stripe(
    stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = Cards("user-ada")
    ada.create_account("ada")
    assert ada.setup_intent()[0] == 200  # the customer exists now
    monkeypatch.setenv("STRIPE_INTERACTIVE_RATE", str(ADD_CARD_REQUESTS))  # one card addition a second
    reset_containers()
    calls = len(stripe_sim.calls)

    with providing(billing_context, new_context(clock=lambda: SECOND)):  # both in the same second
        first = ada.add("pm_card_visa")
        status, headers, body = ada.add("pm_card_mastercard")

    assert first[0] == 201
    assert status == 429
    assert headers["retry-after"] == "1"
    assert body["type"].endswith(":payment-provider-busy")
    assert len(stripe_sim.calls) - calls == ADD_CARD_REQUESTS  # the refused addition called nothing
    assert len([i for i in billing_items("user-ada") if i["SK"].startswith("HOLD#")]) == 1


def test_a_card_addition_makes_two_stripe_requests_while_the_caller_waits(stripe_sim: Simulator) -> None:
    ada = Cards("user-ada")
    ada.create_account("ada")
    ada.setup_intent()
    before = len(stripe_sim.calls)

    assert ada.add("pm_card_visa")[0] == 201

    made = [(c.method, c.path.split("/")[2]) for c in stripe_sim.calls[before:]]
    assert made == [("POST", "payment_methods"), ("POST", "payment_intents")]  # attach; create and confirm


def test_a_throttled_budget_counter_answers_429_not_500(stripe_sim: Simulator) -> None:
    ada = Cards("user-ada")
    ada.create_account("ada")

    class Refused:
        status_code = 400

    def throttle(params: dict[str, Any], **_: Any) -> Any:
        if b"LIMIT#stripe-calls#" in params["body"]:
            return Refused(), {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
        return None

    dynamodb_client().meta.events.register_first("before-call.dynamodb.UpdateItem", throttle)
    calls = len(stripe_sim.calls)

    status, headers, _ = ada.add("pm_card_visa")

    assert (status, headers["retry-after"]) == (429, "1")
    assert len(stripe_sim.calls) == calls
