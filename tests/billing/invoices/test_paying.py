"""Paying what is due: an open invoice of a failed renewal paid with the default card or another
one, 3-D Secure on paying, a declined payment, Stripe down, and what cannot be paid."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from functions.invoices import app as invoices_app
from stripe_simulator.cards import CARDS
from tests.support.events import call, http_event
from tests.support.lifecycle import MONTHLY, Billing, Lifecycle, Result, mirror_of, mirrored_invoices

pytestmark = pytest.mark.usefixtures("lifecycle")


def pay(account: Billing, invoice_id: str, key: str | None = None, **body: Any) -> Result:
    event = http_event(
        "invoices/pay_invoice",
        sub=account.sub,
        path_parameters={"invoice_id": invoice_id},
        body=body,
        headers={"idempotency-key": key or str(uuid.uuid4())},
    )
    return call(invoices_app.lambda_handler, event)


def _cards_become(life: Lifecycle, sub: str, card: str) -> None:
    """The account's cards at Stripe start behaving as the test card `card` (as a real card can)."""
    customer = life.subscription(sub)["customer"]
    for pm in life.sim.all("payment_method"):
        if pm["customer"] == customer:
            life.sim.private(pm["id"])["card"] = CARDS[card]


def _past_due(life: Lifecycle, sub: str, card: str = "chargeCustomerFail") -> tuple[Billing, str]:
    """An account whose renewal failed: its subscription past_due, the renewal invoice open."""
    account = Billing(sub).with_card()
    assert account.change("developer")[0] == 200
    _cards_become(life, sub, card)
    life.advance(31)
    life.deliver()
    assert mirror_of(sub)["status"] == "past_due"
    [due] = [i for i in mirrored_invoices(sub).values() if i["status"] == "open"]
    return account, str(due["invoice_id"])


def _payments(life: Lifecycle) -> list[dict[str, Any]]:
    return [p for p in life.sim.all("payment_intent") if p["capture_method"] != "manual"]


def test_the_subscription_view_says_what_is_due_and_since_when(lifecycle: Lifecycle) -> None:
    eve, due = _past_due(lifecycle, "user-eve")

    view = eve.subscription()[2]

    assert view["status"] == "past_due"
    assert (view["amount_due"], view["due_invoice_id"]) == (MONTHLY["developer"], due)
    assert view["due_since"] is not None


def test_paying_with_a_new_card_makes_the_subscription_active_again(lifecycle: Lifecycle) -> None:
    eve, due = _past_due(lifecycle, "user-eve")
    status, _, card = eve.add("pm_card_mastercard")
    assert status == 201, card

    status, _, paid = pay(eve, due, payment_method_id=card["payment_method"]["id"])
    lifecycle.deliver()

    assert status == 200, paid
    assert (paid["status"], paid["amount_paid"], paid["amount_remaining"]) == ("paid", MONTHLY["developer"], 0)
    assert paid["payment_method"]["brand"] == "mastercard"
    assert lifecycle.sim.objects[due]["status"] == "paid"
    assert mirror_of("user-eve")["status"] == "active"
    view = eve.subscription()[2]
    assert (view["status"], view["amount_due"], view["due_since"]) == ("active", None, None)


def test_a_declined_payment_of_a_due_invoice_is_402_and_remembered(lifecycle: Lifecycle) -> None:
    eve, due = _past_due(lifecycle, "user-eve")
    before = len(_payments(lifecycle))

    first = pay(eve, due, key="pay-eve-0001")
    retried = pay(eve, due, key="pay-eve-0001")
    lifecycle.deliver()

    assert first[0] == 402
    assert first[2]["decline_code"] == "generic_decline"
    assert retried[0] == 402
    assert retried[2] == first[2]
    assert len(_payments(lifecycle)) == before + 1  # the retry moved nothing
    assert lifecycle.sim.objects[due]["status"] == "open"
    assert mirror_of("user-eve")["status"] == "past_due"


def test_3d_secure_on_paying_answers_202_and_the_webhook_completes_it(lifecycle: Lifecycle) -> None:
    eve, due = _past_due(lifecycle, "user-eve", card="threeDSecureRequired")

    status, _, action = pay(eve, due)
    assert status == 202, action
    assert (action["invoice_id"], action["next_action"]) == (due, "authenticate")
    intent = next(p for p in _payments(lifecycle) if p["client_secret"] == action["client_secret"])
    assert intent["status"] == "requires_action"
    assert lifecycle.sim.objects[due]["status"] == "open"

    lifecycle.sim.authenticate(intent["id"])
    lifecycle.deliver()

    assert lifecycle.sim.objects[due]["status"] == "paid"
    assert mirrored_invoices("user-eve")[due]["status"] == "paid"
    assert mirror_of("user-eve")["status"] == "active"


def test_a_failed_3d_secure_leaves_the_invoice_due(lifecycle: Lifecycle) -> None:
    eve, due = _past_due(lifecycle, "user-eve", card="threeDSecureRequired")
    status, _, action = pay(eve, due)
    assert status == 202
    intent = next(p for p in _payments(lifecycle) if p["client_secret"] == action["client_secret"])

    lifecycle.sim.authenticate(intent["id"], succeed=False)
    lifecycle.deliver()

    assert lifecycle.sim.objects[due]["status"] == "open"
    assert mirror_of("user-eve")["status"] == "past_due"


def test_stripe_down_is_503_and_the_same_key_pays_once_it_is_back(lifecycle: Lifecycle) -> None:
    eve, due = _past_due(lifecycle, "user-eve")
    status, _, card = eve.add("pm_card_mastercard")
    assert status == 201
    lifecycle.sim.inject("api_error", method="POST", path=f"/v1/invoices/{due}/pay", times=10)

    down = pay(eve, due, key="pay-eve-down", payment_method_id=card["payment_method"]["id"])
    assert down[0] == 503
    assert lifecycle.sim.objects[due]["status"] == "open"
    lifecycle.sim.faults.clear()

    status, _, paid = pay(eve, due, key="pay-eve-down", payment_method_id=card["payment_method"]["id"])
    assert (status, paid["status"]) == (200, "paid")
    assert pay(eve, due, key="pay-eve-down", payment_method_id=card["payment_method"]["id"])[2] == paid


def test_what_cannot_be_paid(lifecycle: Lifecycle) -> None:
    eve, due = _past_due(lifecycle, "user-eve")
    bob = Billing("user-bob").with_card()
    paid_one = next(i for i in mirrored_invoices("user-eve") if i != due)

    assert pay(bob, due)[0] == 404  # another account's invoice does not exist for bob
    status, _, problem = pay(eve, paid_one)
    assert (status, problem["type"].rsplit(":", 1)[-1]) == (409, "invoice-not-payable")
    status, _, problem = pay(eve, due, payment_method_id="pm_notacardofeves")
    assert (status, problem["type"].rsplit(":", 1)[-1]) == (409, "payment-card-unavailable")
    assert pay(eve, due, payment_method_id="not a card")[0] == 422
    assert lifecycle.sim.objects[due]["status"] == "open"
