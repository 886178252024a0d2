"""One Idempotency-Key sent by ten callers at the same moment: one PaymentIntent, one hold.

Each thread plays one Lambda container: its own service, Stripe client, DynamoDB client and
Powertools idempotency layer, built by `idempotent_add`, the function the handler uses. (The
handler itself keeps the current event on a module-level resolver, so it is never called from
several threads at once; Lambda runs one request per container at a time too.)
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any, cast

import boto3
import pytest

from account_billing.accounts.store import AccountStore
from account_billing.billing.cards.models import AddPaymentMethodRequest
from account_billing.billing.idempotency import Replayable, idempotency_config, idempotent_add
from account_billing.core.errors import ServiceError
from account_billing.core.identity import Caller
from stripe_simulator import Simulator
from tests.support import table
from tests.support.billing import Cards, holds, new_service, new_table
from tests.support.events import LambdaContext

pytestmark = pytest.mark.usefixtures("billing")

THREADS = 10


def _container() -> Callable[[Caller, AddPaymentMethodRequest, str], Replayable]:
    config = idempotency_config()
    config.register_lambda_context(cast(Any, LambdaContext()))  # as the handler does on every invocation
    return idempotent_add(
        new_service(), AccountStore(new_table()), os.environ["IDEMPOTENCY_TABLE_NAME"], config, boto3.client("dynamodb")
    )


def _race(requests: list[AddPaymentMethodRequest], key: str) -> list[int | Replayable]:
    adders = [_container() for _ in requests]
    barrier = Barrier(len(requests))

    def run(index: int) -> int | Replayable:
        barrier.wait()
        try:
            return adders[index](Caller("user-ada"), requests[index], key)
        except ServiceError as exc:
            return exc.status

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(run, range(len(requests))))


def test_ten_callers_with_one_key_place_one_hold(stripe_sim: Simulator) -> None:
    Cards("user-ada").create_account("ada")

    results = _race([AddPaymentMethodRequest(payment_method="pm_card_visa")] * THREADS, "same-key-for-all")

    answers = [r for r in results if isinstance(r, Replayable)]
    refused = [r for r in results if isinstance(r, int)]
    assert answers, results
    assert {a.status for a in answers} == {201}
    assert len({a.body["hold"]["id"] for a in answers}) == 1  # every answer is the first one
    assert set(refused) <= {409}  # "still running, retry": never a second attempt
    assert len(stripe_sim.all("payment_intent")) == 1
    assert len([c for c in stripe_sim.calls_to("POST", "/v1/payment_intents") if not c.replayed]) == 1
    assert len(holds("user-ada")) == 1
    assert Counter(pm["customer"] is not None for pm in stripe_sim.all("payment_method")) == {True: 1}


def test_the_retries_after_the_race_all_get_the_first_answer(stripe_sim: Simulator) -> None:
    Cards("user-ada").create_account("ada")
    first = _race([AddPaymentMethodRequest(payment_method="pm_card_visa")] * THREADS, "settled-key-001")
    winner = next(r for r in first if isinstance(r, Replayable))

    again = _race([AddPaymentMethodRequest(payment_method="pm_card_visa")] * 3, "settled-key-001")

    assert again == [winner] * 3
    assert len(stripe_sim.all("payment_intent")) == 1


def test_two_first_cards_added_at_once_leave_exactly_one_default(stripe_sim: Simulator) -> None:
    Cards("user-ada").create_account("ada")
    services = [new_service() for _ in range(3)]
    cards = ["pm_card_visa", "pm_card_mastercard", "pm_card_amex"]  # as many as may be open at once
    barrier = Barrier(len(cards))

    def run(index: int) -> int:
        barrier.wait()
        request = AddPaymentMethodRequest(payment_method=cards[index])
        return services[index].add(Caller("user-ada"), request, f"first-card-{index}").status

    with ThreadPoolExecutor(len(cards)) as pool:
        statuses = list(pool.map(run, range(len(cards))))

    assert statuses == [201] * 3
    listed = Cards("user-ada").list()[2]["payment_methods"]
    defaults = [c["id"] for c in listed if c["default"]]
    assert len(defaults) == 1
    assert table.item("ACCOUNT#user-ada", "PROFILE")["default_payment_method"] == defaults[0]  # type: ignore[index]
