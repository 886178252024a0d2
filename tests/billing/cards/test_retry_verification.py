"""Retrying a card's verification (POST /v1/billing/payment-methods/{id}/verification) through
the payment_methods handler: a card left waiting for 3-D Secure, or whose authentication failed,
gets a new hold in place of its previous one (released first), once per Idempotency-Key."""

from __future__ import annotations

from typing import Any

import pytest

from stripe_simulator import Simulator
from stripe_simulator.resources.payment_intents import authenticate
from tests.activity.support import entries
from tests.support.billing import Cards, holds, new_service, schedules

pytestmark = pytest.mark.usefixtures("billing")


@pytest.fixture
def ada() -> Cards:
    cards = Cards("user-ada")
    status, _, _ = cards.create_account("ada")
    assert status == 201
    return cards


def _waiting_card(ada: Cards) -> dict[str, Any]:
    status, _, body = ada.add("pm_card_threeDSecureRequired")
    assert status == 202
    added: dict[str, Any] = body
    return added


def _intents(sim: Simulator) -> dict[str, dict[str, Any]]:
    return {pi["id"]: pi for pi in sim.all("payment_intent")}


def test_a_card_waiting_for_3d_secure_gets_a_new_challenge_and_its_old_hold_goes(
    ada: Cards, stripe_sim: Simulator
) -> None:
    first = _waiting_card(ada)
    [old_intent] = stripe_sim.all("payment_intent")

    status, _, body = ada.reverify(first["payment_method"]["id"])

    assert status == 202
    assert (body["next_action"], body["payment_method"]["verification"]) == ("authenticate", "requires_action")
    assert body["hold"]["id"] != first["hold"]["id"]
    assert body["hold"]["status"] == "requires_action"
    intents = _intents(stripe_sim)
    assert intents[old_intent["id"]]["status"] == "canceled"  # the old challenge is gone with its hold
    [new_intent] = [pi for pi in intents.values() if pi["id"] != old_intent["id"]]
    assert body["client_secret"] == new_intent["client_secret"]
    by_id = {h["hold_id"]: h for h in holds("user-ada")}
    assert by_id[first["hold"]["id"]]["status"] == "released"
    assert by_id[body["hold"]["id"]]["status"] == "requires_action"
    assert len(schedules()) == 2  # the new hold is released at its own time too
    [card] = ada.list()[2]["payment_methods"]
    assert card["hold"]["id"] == body["hold"]["id"]


def test_after_a_failed_authentication_the_retry_can_succeed_and_the_card_becomes_default(
    ada: Cards, stripe_sim: Simulator
) -> None:
    first = _waiting_card(ada)
    authenticate(stripe_sim, stripe_sim.all("payment_intent")[0]["id"], succeed=False)
    assert new_service().fail_verification("user-ada", first["hold"]["id"]) is True  # the webhook's work
    assert ada.list()[2]["payment_methods"][0]["verification"] == "failed"

    status, _, body = ada.reverify(first["payment_method"]["id"])
    assert status == 202
    intent = next(pi for pi in stripe_sim.all("payment_intent") if pi["status"] == "requires_action")
    authenticate(stripe_sim, intent["id"])
    completed = new_service().complete_verification("user-ada", body["hold"]["id"], intent["id"])

    assert completed is True
    [card] = ada.list()[2]["payment_methods"]
    assert (card["verification"], card["default"], card["hold"]["status"]) == ("verified", True, "held")
    # a late answer about the first hold changes nothing
    assert new_service().complete_verification("user-ada", first["hold"]["id"], "pi_late") is False


def test_a_retried_request_answers_the_same_and_places_no_second_hold(ada: Cards, stripe_sim: Simulator) -> None:
    first = _waiting_card(ada)

    once = ada.reverify(first["payment_method"]["id"], key="retry-verification-0001")
    again = ada.reverify(first["payment_method"]["id"], key="retry-verification-0001")

    assert once[0] == again[0] == 202
    assert once[2] == again[2]
    assert len(stripe_sim.all("payment_intent")) == 2
    assert len(holds("user-ada")) == 2


def test_a_verified_card_has_nothing_to_retry(ada: Cards, stripe_sim: Simulator) -> None:
    _, _, added = ada.add("pm_card_visa")
    calls = len(stripe_sim.calls)

    status, _, body = ada.reverify(added["payment_method"]["id"])

    assert status == 409
    assert body["type"].endswith(":card-already-verified")
    assert len(stripe_sim.calls) == calls
    assert [h["status"] for h in holds("user-ada")] == ["held"]


def test_an_unknown_card_is_404_and_nothing_happens(ada: Cards, stripe_sim: Simulator) -> None:
    status, _, body = ada.reverify("pm_1NotACardOfAda0000000")

    assert status == 404
    assert body["type"].endswith(":payment-method-not-found")
    assert stripe_sim.all("payment_intent") == []


def test_the_retry_needs_an_idempotency_key(ada: Cards, stripe_sim: Simulator) -> None:
    first = _waiting_card(ada)
    calls = len(stripe_sim.calls)

    status, _, body = ada.reverify(first["payment_method"]["id"], key=None)

    assert status == 422
    assert body["errors"][0]["parameter"] == "idempotency-key"
    assert len(stripe_sim.calls) == calls


def test_when_stripe_cannot_release_the_old_hold_no_new_one_is_placed_and_a_retry_finishes(
    ada: Cards, stripe_sim: Simulator
) -> None:
    first = _waiting_card(ada)
    stripe_sim.inject("api_error", method="POST", path="/v1/payment_intents", times=10)

    status, _, _ = ada.reverify(first["payment_method"]["id"], key="retry-verification-0002")

    assert status == 503
    [intent] = stripe_sim.all("payment_intent")  # no second hold
    assert intent["status"] == "requires_action"
    [hold] = holds("user-ada")
    assert hold["status"] == "releasing"  # handed back: the next attempt (or the sweeper) finishes it
    assert ada.list()[2]["payment_methods"][0]["verification"] == "requires_action"

    stripe_sim.faults.clear()
    status, _, body = ada.reverify(first["payment_method"]["id"], key="retry-verification-0003")
    assert status == 202
    assert {h["hold_id"]: h["status"] for h in holds("user-ada")} == {
        first["hold"]["id"]: "released",
        body["hold"]["id"]: "requires_action",
    }


def test_without_an_account_the_retry_is_404(stripe_sim: Simulator) -> None:
    assert Cards("user-nobody").reverify("pm_1NotACardOfAda0000000")[0] == 404


def test_retries_count_against_the_card_attempts_limit_and_past_it_never_reach_stripe(
    ada: Cards, stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARD_ATTEMPTS_PER_HOUR", "3")  # the addition and two retries
    first = _waiting_card(ada)
    for n in range(2):
        assert ada.reverify(first["payment_method"]["id"], key=f"retry-verification-1{n:03}")[0] == 202
    intents = len(stripe_sim.all("payment_intent"))

    status, headers, body = ada.reverify(first["payment_method"]["id"], key="retry-verification-1099")

    assert status == 429
    assert body["type"].endswith(":card-attempts-limited")
    assert int(headers["retry-after"]) >= 1
    assert len(stripe_sim.all("payment_intent")) == intents  # no new authorization
    assert len([h for h in holds("user-ada") if h["status"] != "released"]) == 1


def test_once_declines_lock_the_account_s_cards_a_retry_is_refused_before_stripe(
    ada: Cards, stripe_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARD_DECLINES_PER_DAY", "1")
    first = _waiting_card(ada)
    assert ada.add("pm_card_chargeDeclined")[0] == 402  # the day's one decline: the card routes lock
    intents = len(stripe_sim.all("payment_intent"))

    status, headers, body = ada.reverify(first["payment_method"]["id"], key="retry-verification-2001")

    assert status == 429
    assert body["type"].endswith(":card-additions-locked")
    assert int(headers["retry-after"]) >= 1
    assert len(stripe_sim.all("payment_intent")) == intents
    assert ada.list()[2]["payment_methods"][0]["hold"]["id"] == first["hold"]["id"]  # the old hold stays


def test_the_retry_is_in_the_activity_log_once_however_often_the_request_is_sent(ada: Cards) -> None:
    first = _waiting_card(ada)

    for _ in range(2):
        status, _, body = ada.reverify(first["payment_method"]["id"], key="retry-verification-3001")
        assert status == 202

    placed = [
        e for e in entries("user-ada") if e["kind"] == "hold.placed" and e["details"]["hold"] == body["hold"]["id"]
    ]
    assert len(placed) == 1
    assert placed[0]["actor"] == "user"
    assert placed[0]["details"]["payment_method"] == first["payment_method"]["id"]
    assert not any(e["kind"] == "card.verified" for e in entries("user-ada"))  # still waiting for 3-D Secure
