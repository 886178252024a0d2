"""Choosing the default card, removing cards, and one account never reaching another's cards."""

from __future__ import annotations

import pytest

from account_billing.core.table import values
from stripe_simulator import Simulator
from stripe_simulator.cards import test_card as card_of_shortcut
from stripe_simulator.resources.payment_methods import new_card_method
from tests.support import table
from tests.support.billing import Cards, drain_tasks, new_table
from tests.support.stripe import stripe_object

pytestmark = pytest.mark.usefixtures("billing")


@pytest.fixture
def ada() -> Cards:
    cards = Cards("user-ada")
    assert cards.create_account("ada")[0] == 201
    return cards


@pytest.fixture
def bob() -> Cards:
    cards = Cards("user-bob")
    assert cards.create_account("bob")[0] == 201
    return cards


def _add(cards: Cards, pm: str = "pm_card_visa") -> str:
    status, _, body = cards.add(pm)
    assert status in (201, 202), body
    return str(body["payment_method"]["id"])


def _defaults(cards: Cards) -> dict[str, bool]:
    return {c["id"]: c["default"] for c in cards.list()[2]["payment_methods"]}


def _paid_plan(sub: str) -> None:
    new_table().update(
        {"PK": f"ACCOUNT#{sub}", "SK": "PROFILE"},
        UpdateExpression="SET #plan = :plan",
        ExpressionAttributeNames={"#plan": "plan"},
        ExpressionAttributeValues=values(plan="developer"),
    )


def test_another_verified_card_can_become_the_default(ada: Cards, stripe_sim: Simulator) -> None:
    first, second = _add(ada), _add(ada, "pm_card_mastercard")

    status, _, _ = ada.set_default(second)

    assert status == 204
    assert _defaults(ada) == {first: False, second: True}
    assert table.item("ACCOUNT#user-ada", "PROFILE")["default_payment_method"] == second  # type: ignore[index]
    drain_tasks()  # Stripe's default card follows in the background
    customer = stripe_sim.all("customer")[0]
    assert customer["invoice_settings"]["default_payment_method"] == second


def test_a_card_waiting_for_3d_secure_cannot_be_the_default(ada: Cards) -> None:
    first, pending = _add(ada), _add(ada, "pm_card_threeDSecureRequired")

    status, _, body = ada.set_default(pending)

    assert status == 409
    assert body["type"].endswith(":card-not-verified")
    assert _defaults(ada) == {first: True, pending: False}


def test_removing_a_card_detaches_it_and_frees_its_fingerprint(ada: Cards, stripe_sim: Simulator) -> None:
    _add(ada)
    second = _add(ada, "pm_card_mastercard")

    status, _, _ = ada.remove(second)

    assert status == 204
    assert second not in _defaults(ada)
    drain_tasks()  # detaching is background work
    assert stripe_object(stripe_sim, second, "payment_method")["customer"] is None
    assert ada.add("pm_card_mastercard")[0] == 201  # the same card may come back


def test_the_default_card_stays_while_a_paid_plan_has_no_other_verified_card(ada: Cards) -> None:
    only = _add(ada)
    _add(ada, "pm_card_threeDSecureRequired")  # not verified: cannot take over
    _paid_plan("user-ada")

    status, _, body = ada.remove(only)

    assert status == 409
    assert body["type"].endswith(":default-card-required")
    assert _defaults(ada)[only] is True


def test_removing_the_default_hands_it_to_another_verified_card(ada: Cards, stripe_sim: Simulator) -> None:
    first, second = _add(ada), _add(ada, "pm_card_mastercard")
    _paid_plan("user-ada")

    assert ada.remove(first)[0] == 204

    assert _defaults(ada) == {second: True}
    assert table.item("ACCOUNT#user-ada", "PROFILE")["default_payment_method"] == second  # type: ignore[index]
    drain_tasks()
    assert stripe_sim.all("customer")[0]["invoice_settings"]["default_payment_method"] == second


def test_on_the_free_plan_the_last_card_can_go(ada: Cards) -> None:
    only = _add(ada)

    assert ada.remove(only)[0] == 204

    assert _defaults(ada) == {}
    assert "default_payment_method" not in table.item("ACCOUNT#user-ada", "PROFILE")  # type: ignore[operator]
    assert _add(ada, "pm_card_mastercard") in _defaults(ada)  # the next verified card is the default again
    assert list(_defaults(ada).values()) == [True]


def test_another_accounts_card_is_404_everywhere(ada: Cards, bob: Cards, stripe_sim: Simulator) -> None:
    bobs = _add(bob)

    assert ada.set_default(bobs)[0] == 404
    assert ada.remove(bobs)[0] == 404
    status, _, body = ada.add(bobs)  # a card attached to another customer
    assert status == 404
    assert body["type"].endswith(":payment-method-not-found")
    assert _defaults(bob) == {bobs: True}
    assert (
        stripe_object(stripe_sim, bobs, "payment_method")["customer"]
        == table.item("ACCOUNT#user-bob", "PROFILE")[  # type: ignore[index]
            "stripe_customer_id"
        ]
    )
    assert _defaults(ada) == {}


def test_an_unknown_card_is_404(ada: Cards) -> None:
    assert ada.set_default("pm_unknown0001")[0] == 404
    assert ada.remove("pm_unknown0001")[0] == 404


def test_a_malformed_card_id_is_422(ada: Cards) -> None:
    status, _, body = ada.remove("card_123")

    assert status == 422
    assert body["errors"][0]["parameter"] == "payment_method_id"


# ------------------------------------------------------------------ removed, then added again


def test_a_test_card_removed_and_added_again_is_on_the_account(ada: Cards) -> None:
    # (found by the fuzzer: the attach key named the card, so the second attachment was
    # answered with the first one's cached PaymentMethod, detached since: a 500)
    first = _add(ada)
    assert ada.remove(first)[0] == 204

    status, _, body = ada.add("pm_card_visa")

    assert status == 201, body
    assert [c["id"] for c in ada.list()[2]["payment_methods"]] == [body["payment_method"]["id"]]


def test_a_payment_method_removed_and_posted_again_is_no_card(ada: Cards, stripe_sim: Simulator) -> None:
    # Given a card collected by Stripe.js (its own PaymentMethod), added and removed
    pm = new_card_method(stripe_sim, card_of_shortcut("pm_card_visa"))["id"]  # type: ignore[arg-type]
    assert _add(ada, pm) == pm
    assert ada.remove(pm)[0] == 204
    drain_tasks()  # the background worker detaches it at Stripe

    # When the same PaymentMethod is posted again (a new request)
    status, _, body = ada.add(pm)

    # Then Stripe is asked again, and refuses it (a detached PaymentMethod is spent): no card
    # (found: the attach key named the card, so Stripe's cached "attached" answer came back)
    assert (status, body["type"].rsplit(":", 1)[-1]) == (404, "payment-method-not-found")
    assert ada.list()[2]["payment_methods"] == []
    assert stripe_object(stripe_sim, pm, "payment_method")["customer"] is None
