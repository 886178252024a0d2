"""Card-testing defences (issue 11): velocity limits on the cards an account tries and on its
declines (429 with Retry-After, then a lock), caps on cards and on open holds (concurrent
additions included), a removed card's hold released at once, and the hold amount the account's
own plan's, never the caller's choice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from account_billing.billing.cards.models import AddPaymentMethodRequest
from account_billing.core.errors import ServiceError
from account_billing.core.identity import Caller
from account_billing.core.table import values
from stripe_simulator import Simulator
from tests.support import table
from tests.support.billing import Cards, drain_tasks, holds, later, new_releaser, new_service, new_table

pytestmark = pytest.mark.usefixtures("billing")

CARDS = ["pm_card_visa", "pm_card_mastercard", "pm_card_amex", "pm_card_visa_debit"]  # four different cards


@pytest.fixture
def ada() -> Cards:
    cards = Cards("user-ada")
    assert cards.create_account("ada")[0] == 201
    return cards


def _attaches(stripe_sim: Simulator) -> int:
    return len([c for c in stripe_sim.calls_to("POST", "/v1/payment_methods/") if c.path.endswith("/attach")])


def _open_holds(sub: str) -> list[dict[str, object]]:
    return [h for h in holds(sub) if h["status"] != "released"]


def _set_plan(sub: str, plan: str) -> None:
    new_table().update(
        {"PK": f"ACCOUNT#{sub}", "SK": "PROFILE"},
        UpdateExpression="SET #plan = :plan",
        ExpressionAttributeNames={"#plan": "plan"},
        ExpressionAttributeValues=values(plan=plan),
    )


# ---------------------------------------------------------------------------- velocity
def test_cards_tried_past_the_hourly_limit_get_429_and_never_reach_stripe(
    ada: Cards, stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARD_DECLINES_PER_DAY", "100")  # only the attempts limit is under test
    for _ in range(10):
        assert ada.add("pm_card_chargeDeclined")[0] == 402
    tried = _attaches(stripe_sim)

    status, headers, body = ada.add("pm_card_visa")

    assert status == 429
    assert body["type"].endswith(":card-attempts-limited")
    assert 1 <= int(headers["retry-after"]) <= 3600
    assert body["retry_after"] == int(headers["retry-after"])
    assert _attaches(stripe_sim) == tried  # refused before Stripe saw the card
    assert ada.list()[2]["payment_methods"] == []


def test_declines_lock_card_additions_for_the_configured_time_even_for_a_good_card(
    ada: Cards, stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARD_LOCK_MINUTES", "120")
    answers = [ada.add(card)[0] for card in ["pm_card_chargeDeclined"] * 5]
    tried = _attaches(stripe_sim)

    status, headers, body = ada.add("pm_card_visa")

    assert answers == [402] * 5  # the bank's answers, as they came
    assert status == 429
    assert body["type"].endswith(":card-additions-locked")
    assert 7100 <= int(headers["retry-after"]) <= 7200
    assert _attaches(stripe_sim) == tried
    # the lock is kept apart from the account's items (deleting the account does not lift it)
    lock = table.existing("CARDLOCK#user-ada", "LOCK")
    assert lock["expires_at"] > lock["locked_until"]
    # and it ends: three hours on (a new hour's attempts, the lock over), a good card is added
    request = AddPaymentMethodRequest(payment_method="pm_card_visa")
    assert new_service(clock=later(hours=3)).add(Caller("user-ada"), request, "after-the-lock").status == 201


def test_a_failed_3d_secure_counts_as_a_decline(ada: Cards, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARD_DECLINES_PER_DAY", "1")
    _, _, body = ada.add("pm_card_threeDSecureRequired")

    assert new_service().fail_verification("user-ada", body["hold"]["id"]) is True

    status, _, refused = ada.add("pm_card_visa")
    assert status == 429
    assert refused["type"].endswith(":card-additions-locked")


def test_concurrent_attempts_past_the_hourly_limit_reach_stripe_at_most_the_limit(
    ada: Cards, stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARD_ATTEMPTS_PER_HOUR", "4")
    monkeypatch.setenv("CARD_DECLINES_PER_DAY", "100")
    services = [new_service() for _ in range(10)]
    barrier = Barrier(len(services))

    def run(index: int) -> int:
        barrier.wait()
        request = AddPaymentMethodRequest(payment_method="pm_card_chargeDeclined")
        try:
            return services[index].add(Caller("user-ada"), request, f"burst-{index:02}").status
        except ServiceError as exc:
            return exc.status

    with ThreadPoolExecutor(len(services)) as pool:
        statuses = sorted(pool.map(run, range(len(services))))

    assert statuses == [402] * 4 + [429] * 6
    assert _attaches(stripe_sim) == 4


# ---------------------------------------------------------------------------- caps
def test_open_holds_are_capped_and_the_refusal_says_when_the_next_one_goes(ada: Cards, stripe_sim: Simulator) -> None:
    for card in CARDS[:3]:
        assert ada.add(card)[0] == 201
    tried = _attaches(stripe_sim)

    status, headers, body = ada.add(CARDS[3])

    assert status == 429
    assert body["type"].endswith(":too-many-open-holds")
    assert 86000 <= int(headers["retry-after"]) <= 86400  # the oldest hold's release, a day on
    assert _attaches(stripe_sim) == tried
    assert len(_open_holds("user-ada")) == 3
    assert len(stripe_sim.all("payment_intent")) == 3


def test_cards_are_capped_and_raise_card_limit_reached(
    ada: Cards, stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_CARDS", "2")
    assert ada.add(CARDS[0])[0] == 201
    assert ada.add(CARDS[1])[0] == 201
    new_releaser(clock=later(days=2)).release_card_holds("user-ada", ada.list()[2]["payment_methods"][0]["id"])
    tried = _attaches(stripe_sim)

    status, _, body = ada.add(CARDS[2])

    assert status == 409
    assert body["type"].endswith(":card-limit-reached")
    assert _attaches(stripe_sim) == tried
    assert len(ada.list()[2]["payment_methods"]) == 2


def test_concurrent_additions_never_get_past_the_caps_and_refused_cards_are_detached(
    ada: Cards, stripe_sim: Simulator
) -> None:
    services = [new_service() for _ in CARDS]
    barrier = Barrier(len(CARDS))

    def run(index: int) -> int:
        barrier.wait()
        request = AddPaymentMethodRequest(payment_method=CARDS[index])
        try:
            return services[index].add(Caller("user-ada"), request, f"together-{index}").status
        except ServiceError as exc:
            return exc.status

    with ThreadPoolExecutor(len(CARDS)) as pool:
        statuses = list(pool.map(run, range(len(CARDS))))

    assert 1 <= statuses.count(201) <= 3
    assert set(statuses) <= {201, 409, 429}
    assert len(_open_holds("user-ada")) == statuses.count(201)
    listed = ada.list()[2]["payment_methods"]
    assert len(listed) == statuses.count(201)
    drain_tasks()  # detaching is background work (`billing.tasks`)
    attached = [pm["id"] for pm in stripe_sim.all("payment_method") if pm["customer"] is not None]
    assert sorted(attached) == sorted(c["id"] for c in listed)  # every refused card was detached
    assert len([i for i in stripe_sim.all("payment_intent") if i["status"] == "requires_capture"]) == statuses.count(
        201
    )


# ---------------------------------------------------------------------------- removal
def test_removing_a_card_releases_its_hold_at_once(ada: Cards, stripe_sim: Simulator) -> None:
    _, _, added = ada.add("pm_card_visa")

    assert ada.remove(added["payment_method"]["id"])[0] == 204

    [hold] = holds("user-ada")
    assert (hold["status"], hold["outcome"]) == ("released", "canceled")
    [intent] = stripe_sim.all("payment_intent")
    assert intent["status"] == "canceled"


def test_removing_and_adding_a_card_again_never_stacks_holds(ada: Cards, stripe_sim: Simulator) -> None:
    for _ in range(6):
        status, _, added = ada.add("pm_card_visa")
        assert status == 201
        assert len(_open_holds("user-ada")) == 1
        assert ada.remove(added["payment_method"]["id"])[0] == 204

    assert _open_holds("user-ada") == []
    assert [i["status"] for i in stripe_sim.all("payment_intent")] == ["canceled"] * 6


# ---------------------------------------------------------------------------- the hold amount
@pytest.mark.parametrize(
    ("current", "asked"), [(None, "professional"), (None, "essential"), ("essential", "developer")]
)
def test_a_hold_of_another_plan_than_the_accounts_own_is_refused(
    ada: Cards, stripe_sim: Simulator, current: str | None, asked: str
) -> None:
    if current:
        _set_plan("user-ada", current)

    status, _, body = ada.add("pm_card_visa", plan=asked)

    assert status == 422
    assert body["type"].endswith(":hold-plan-not-allowed")
    assert stripe_sim.calls == []  # refused before Stripe was asked anything
    assert holds("user-ada") == []


def test_an_idempotency_key_refused_with_an_unknown_card_adds_another_card_later(ada: Cards) -> None:
    # Given a request refused because its card does not exist (nothing is stored for its key)
    refused = ada.add("pm_" + "0" * 40, key="key-reused-after-a-refusal")
    assert refused[0] == 404

    # When the same Idempotency-Key comes again with a real card
    status, _, body = ada.add("pm_card_visa", key="key-reused-after-a-refusal")

    # Then the card is added (Stripe's attach key names the card too: never a 500 for a key
    # Stripe saw with other parameters)
    assert status == 201, body
    assert [c["id"] for c in ada.list()[2]["payment_methods"]] == [body["payment_method"]["id"]]
