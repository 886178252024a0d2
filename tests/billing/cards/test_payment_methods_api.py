"""The card routes through the payment_methods handler: moto for AWS, the Stripe simulator for
Stripe (the production gateway runs unchanged on it)."""

from __future__ import annotations

import json

import pytest

from account_billing.core.table import values
from stripe_simulator import Simulator
from stripe_simulator.resources.payment_intents import authenticate
from tests.support import table
from tests.support.billing import Cards, billing_items, drain_tasks, holds, new_service, new_table, schedules
from tests.support.stripe import stripe_object

pytestmark = pytest.mark.usefixtures("billing")


@pytest.fixture
def ada() -> Cards:
    cards = Cards("user-ada")
    status, _, _ = cards.create_account("ada")
    assert status == 201
    return cards


def _set_plan(sub: str, plan: str) -> None:
    new_table().update(
        {"PK": f"ACCOUNT#{sub}", "SK": "PROFILE"},
        UpdateExpression="SET #plan = :plan",
        ExpressionAttributeNames={"#plan": "plan"},
        ExpressionAttributeValues=values(plan=plan),
    )


# ---------------------------------------------------------------------------- happy path
def test_adding_a_card_places_the_plans_hold_and_schedules_its_release(ada: Cards, stripe_sim: Simulator) -> None:
    status, headers, body = ada.add("pm_card_visa")

    assert status == 201
    assert headers["cache-control"] == "no-store"
    card, hold = body["payment_method"], body["hold"]
    assert (card["brand"], card["last4"], card["default"], card["verification"]) == ("visa", "4242", True, "verified")
    assert (hold["amount"], hold["currency"], hold["status"]) == (5000, "usd", "held")
    assert body["client_secret"] is None
    # Stripe: one PaymentIntent, manual capture, authorized, keyed on the hold
    [intent] = stripe_sim.all("payment_intent")
    assert (intent["amount"], intent["capture_method"], intent["status"]) == (5000, "manual", "requires_capture")
    assert intent["metadata"]["hold_id"] == hold["id"]
    [create] = stripe_sim.calls_to("POST", "/v1/payment_intents")
    assert create.idempotency_key == f"hold-{hold['id']}"
    assert stripe_object(stripe_sim, card["id"], "payment_method")["customer"] == intent["customer"]
    # one schedule at the release time, deleted after it runs, aimed at the release function
    [schedule] = schedules()
    assert schedule["ScheduleExpression"] == f"at({hold['release_at'][:19]})"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert json.loads(schedule["Target"]["Input"]) == {"release": {"account": "user-ada", "hold_id": hold["id"]}}
    assert schedule["Target"]["Arn"].endswith(":test-StripeTaskQueue")  # the release goes through the queue
    assert schedule["Target"]["DeadLetterConfig"]["Arn"].endswith("test-hold-release-dlq")
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] > 0
    # the hold is recorded, held, and in the due index at its release time
    [stored] = holds("user-ada")
    assert stored["status"] == "held"
    assert stored["payment_intent_id"] == intent["id"]
    assert stored["GSI1SK"].startswith(hold["release_at"][:19])
    assert table.item("ACCOUNT#user-ada", "PROFILE")["default_payment_method"] == card["id"]  # type: ignore[index]


def test_the_listed_card_shows_brand_expiry_default_verification_and_hold(ada: Cards) -> None:
    _, _, added = ada.add("pm_card_mastercard")

    status, _, body = ada.list()

    assert status == 200
    [card] = body["payment_methods"]
    assert card["id"] == added["payment_method"]["id"]
    assert (card["brand"], card["last4"], card["exp_month"], card["exp_year"]) == ("mastercard", "4444", 12, 2034)
    assert card["default"] is True
    assert card["verification"] == "verified"
    assert card["hold"]["status"] == "held"
    assert card["hold"]["amount"] == 5000


@pytest.mark.parametrize(("plan", "amount"), [("developer", 5000), ("essential", 10000), ("professional", 50000)])
def test_the_hold_is_the_accounts_own_plans_pre_authorization_named_or_not(
    ada: Cards, stripe_sim: Simulator, plan: str, amount: int
) -> None:
    _set_plan("user-ada", plan)

    status, _, body = ada.add("pm_card_visa", plan=plan)

    assert status == 201
    assert body["hold"]["amount"] == amount
    assert stripe_sim.all("payment_intent")[0]["amount"] == amount


def test_without_a_plan_the_hold_is_the_current_paid_plans(ada: Cards) -> None:
    _set_plan("user-ada", "professional")

    _, _, body = ada.add("pm_card_visa")

    assert body["hold"]["amount"] == 50000


def test_the_stripe_customer_is_created_once_and_kept_on_the_account(ada: Cards, stripe_sim: Simulator) -> None:
    first = ada.setup_intent()
    second = ada.setup_intent()
    ada.add("pm_card_visa")

    assert first[0] == second[0] == 200
    assert first[2]["client_secret"].startswith("seti_")
    [customer] = stripe_sim.all("customer")
    assert customer["metadata"] == {"account": "user-ada"}
    assert table.item("ACCOUNT#user-ada", "PROFILE")["stripe_customer_id"] == customer["id"]  # type: ignore[index]
    assert {i["customer"] for i in stripe_sim.all("payment_intent")} == {customer["id"]}


def test_a_second_verified_card_does_not_take_the_default(ada: Cards) -> None:
    _, _, first = ada.add("pm_card_visa")
    _, _, second = ada.add("pm_card_mastercard")

    assert second["payment_method"]["default"] is False
    defaults = {c["id"]: c["default"] for c in ada.list()[2]["payment_methods"]}
    assert defaults == {first["payment_method"]["id"]: True, second["payment_method"]["id"]: False}


# ---------------------------------------------------------------------------- declines
@pytest.mark.parametrize(
    ("card", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_chargeDeclinedLostCard", "lost_card"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
        ("pm_card_chargeCustomerFail", "generic_decline"),  # attaches, then the charge fails
    ],
)
def test_a_declined_card_answers_402_with_the_decline_code_and_leaves_nothing(
    ada: Cards, stripe_sim: Simulator, card: str, decline_code: str
) -> None:
    status, headers, body = ada.add(card)

    assert status == 402
    assert headers["content-type"] == "application/problem+json"
    assert body["type"].endswith(":card-declined")
    assert body["decline_code"] == decline_code
    assert billing_items("user-ada") == []
    assert ada.list()[2]["payment_methods"] == []
    drain_tasks()  # detaching is background work
    assert all(pm["customer"] is None for pm in stripe_sim.all("payment_method"))  # detached
    assert schedules() == []
    assert "default_payment_method" not in table.item("ACCOUNT#user-ada", "PROFILE")  # type: ignore[operator]


def test_after_a_decline_the_same_account_can_add_a_good_card(ada: Cards) -> None:
    assert ada.add("pm_card_chargeDeclined")[0] == 402

    status, _, body = ada.add("pm_card_visa")

    assert status == 201
    assert body["payment_method"]["default"] is True


# ---------------------------------------------------------------------------- 3-D Secure
@pytest.mark.parametrize("card", ["pm_card_authenticationRequired", "pm_card_threeDSecureRequired"])
def test_a_card_needing_3d_secure_answers_202_with_the_client_secret(
    ada: Cards, stripe_sim: Simulator, card: str
) -> None:
    status, _, body = ada.add(card)

    assert status == 202
    [intent] = stripe_sim.all("payment_intent")
    assert intent["status"] == "requires_action"
    assert body["client_secret"] == intent["client_secret"]
    assert body["next_action"] == "authenticate"
    assert body["hold"]["status"] == "requires_action"
    assert body["payment_method"]["verification"] == "requires_action"
    assert body["payment_method"]["default"] is False
    assert len(schedules()) == 1  # released on time even if the customer never authenticates


def test_completing_3d_secure_verifies_the_card_and_makes_it_the_default(ada: Cards, stripe_sim: Simulator) -> None:
    _, _, body = ada.add("pm_card_threeDSecureRequired")
    intent = stripe_sim.all("payment_intent")[0]
    authenticate(stripe_sim, intent["id"])
    [event] = stripe_sim.events("payment_intent.amount_capturable_updated")
    metadata = event["data"]["object"]["metadata"]

    completed = new_service().complete_verification(metadata["account"], metadata["hold_id"], intent["id"])

    assert completed is True
    [card] = ada.list()[2]["payment_methods"]
    assert (card["verification"], card["default"], card["hold"]["status"]) == ("verified", True, "held")
    assert holds("user-ada")[0]["status"] == "held"
    assert new_service().complete_verification("user-ada", body["hold"]["id"], intent["id"]) is False  # once


# ---------------------------------------------------------------------------- duplicates
def test_the_same_card_twice_is_409_and_the_second_copy_is_detached(ada: Cards, stripe_sim: Simulator) -> None:
    ada.add("pm_card_visa")

    status, _, body = ada.add("pm_card_visa")

    assert status == 409
    assert body["type"].endswith(":duplicate-card")
    assert len(ada.list()[2]["payment_methods"]) == 1
    assert len(stripe_sim.all("payment_intent")) == 1  # no second hold
    drain_tasks()  # detaching is background work
    attached = [pm for pm in stripe_sim.all("payment_method") if pm["customer"]]
    assert len(attached) == 1


def test_the_same_card_on_two_accounts_is_fine(ada: Cards) -> None:
    bob = Cards("user-bob")
    bob.create_account("bob")
    ada.add("pm_card_visa")

    assert bob.add("pm_card_visa")[0] == 201


# ---------------------------------------------------------------------------- idempotency
def test_a_retried_request_returns_the_first_answer_and_moves_no_money_twice(ada: Cards, stripe_sim: Simulator) -> None:
    first = ada.add("pm_card_visa", key="retry-key-0001")
    again = ada.add("pm_card_visa", key="retry-key-0001")

    assert first[0] == again[0] == 201
    assert first[2] == again[2]
    assert len(stripe_sim.all("payment_intent")) == 1
    assert len(holds("user-ada")) == 1


def test_a_retried_decline_answers_the_same_402(ada: Cards, stripe_sim: Simulator) -> None:
    first = ada.add("pm_card_chargeDeclinedInsufficientFunds", key="decline-key-01")
    again = ada.add("pm_card_chargeDeclinedInsufficientFunds", key="decline-key-01")

    assert first[0] == again[0] == 402
    assert again[2]["decline_code"] == "insufficient_funds"
    assert len(stripe_sim.calls_to("POST", "/v1/payment_methods/")) == 1  # the retry never reached Stripe


def test_the_same_key_with_another_body_is_refused(ada: Cards) -> None:
    ada.add("pm_card_visa", key="reused-key-001")

    status, _, body = ada.add("pm_card_mastercard", key="reused-key-001")

    assert status == 422
    assert body["type"].endswith(":idempotency-key-reused")
    assert len(ada.list()[2]["payment_methods"]) == 1


def test_the_same_key_from_another_caller_is_another_request(ada: Cards) -> None:
    bob = Cards("user-bob")
    bob.create_account("bob")
    ada.add("pm_card_visa", key="shared-key-0001")

    status, _, body = bob.add("pm_card_visa", key="shared-key-0001")

    assert status == 201
    assert body["payment_method"]["id"] != ada.list()[2]["payment_methods"][0]["id"]


def test_adding_a_card_requires_an_idempotency_key(ada: Cards, stripe_sim: Simulator) -> None:
    status, _, body = ada.add("pm_card_visa", key=None)

    assert status == 422
    assert body["errors"][0]["parameter"] == "idempotency-key"
    assert stripe_sim.calls == []
    assert billing_items("user-ada") == []


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"payment_method": "card_4242"}, "#/payment_method"),
        ({"payment_method": 42}, "#/payment_method"),
        ({"payment_method": "pm_card_visa", "plan": "community"}, "#/plan"),
        ({"payment_method": "pm_card_visa", "number": "4242424242424242"}, "#/number"),
        ({}, "#/payment_method"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_nothing_happens(
    ada: Cards, stripe_sim: Simulator, body: dict[str, object], pointer: str
) -> None:
    status, _, problem = ada._call("add_payment_method", body=body, headers={"idempotency-key": "bad-input-0001"})

    assert status == 422
    assert pointer in [e.get("pointer") for e in problem["errors"]]
    assert stripe_sim.calls == []
    assert billing_items("user-ada") == []


def test_without_an_account_the_card_routes_are_404(stripe_sim: Simulator) -> None:
    nobody = Cards("user-nobody")

    assert nobody.add("pm_card_visa")[0] == 404
    assert nobody.list()[0] == 404
    assert nobody.setup_intent()[0] == 404
    assert stripe_sim.all("payment_intent") == []


def test_an_unknown_payment_method_is_404(ada: Cards) -> None:
    status, _, body = ada.add("pm_doesNotExist123")

    assert status == 404
    assert body["type"].endswith(":payment-method-not-found")
