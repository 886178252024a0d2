"""The shape check itself: it finds what the SDK's resource classes refuse (a missing field, a
wrong JSON type, a field or enum value the pinned version does not have), with its path, and
lets through what they allow (an optional field left out, null where nullable)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import stripe

from stripe_simulator import Clock, Simulator
from stripe_simulator.resources.prices import seed_price
from stripe_simulator.shapes import problems
from tests.support.stripe import START


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    """A paid subscription's objects, as the simulator answered them (JSON, recorded)."""
    sim = Simulator(Clock(START, frozen=True), record=True)
    seed_price(sim, "price_small", 1000, "Small")
    client = stripe.StripeClient("sk_test_shapes", http_client=sim.http_client())
    customer = client.v1.customers.create({})
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    sub = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": "price_small"}], "default_payment_method": pm.id}
    )
    client.v1.invoices.retrieve(str(sub.latest_invoice))
    client.v1.events.retrieve(client.v1.events.list({"type": "customer.subscription.created"}).data[0].id)
    answered = [call.response for call in sim.calls if call.response is not None]
    return {
        body["object"]: body for body in answered if body["object"] in ("customer", "subscription", "invoice", "event")
    }


def _changed(obj: dict[str, Any], change: Any) -> dict[str, Any]:
    copied = copy.deepcopy(obj)
    change(copied)
    return copied


def test_the_simulators_objects_pass(objects: dict[str, dict[str, Any]]) -> None:
    assert {name: problems(obj) for name, obj in objects.items()} == {name: [] for name in objects}


def test_a_missing_field_is_found_by_its_path(objects: dict[str, dict[str, Any]]) -> None:
    invoice = objects["invoice"]
    no_subtotal = _changed(invoice, lambda i: i["lines"]["data"][0].pop("subtotal"))
    no_billing_mode = _changed(objects["subscription"], lambda s: s.pop("billing_mode"))
    no_tax = _changed(invoice, lambda i: i["automatic_tax"].pop("enabled"))

    assert problems(no_subtotal) == ["lines.data[0].subtotal: missing (always present in InvoiceLineItem)"]
    assert problems(no_billing_mode) == ["billing_mode: missing (always present in Subscription)"]
    assert problems(no_tax) == ["automatic_tax.enabled: missing (always present in Invoice.AutomaticTax)"]


def test_wrong_types_unknown_fields_and_values_of_other_versions_are_found(
    objects: dict[str, dict[str, Any]],
) -> None:
    invoice, sub = objects["invoice"], objects["subscription"]

    def old_shape(i: dict[str, Any]) -> None:
        i["subscription"] = sub["id"]  # moved to parent.subscription_details in 2025

    assert problems(_changed(invoice, lambda i: i.update(amount_due="1000"))) == [
        "amount_due: expected int, got a string '1000'"
    ]
    assert problems(_changed(invoice, old_shape)) == ["subscription: not a field of Invoice at the pinned version"]
    assert problems(_changed(sub, lambda s: s.update(status="archived")))[0].startswith(
        "status: 'archived' is not one of ['active', 'canceled'"
    )
    assert problems(_changed(sub, lambda s: s.update(discounts=None))) == ["discounts: expected a list, got null"]
    price_as_id = _changed(sub, lambda s: s["items"]["data"][0].update(price="price_small"))
    assert problems(price_as_id) == ["items.data[0].price: expected an object, got a string"]


def test_what_the_types_leave_optional_may_be_null_or_absent(objects: dict[str, dict[str, Any]]) -> None:
    invoice = objects["invoice"]

    assert problems(_changed(invoice, lambda i: i.pop("customer_email"))) == []
    assert problems(_changed(invoice, lambda i: i.update(customer_email=None))) == []
    assert problems(_changed(invoice, lambda i: i.update(customer_email=7))) == [
        "customer_email: expected str, got int 7"
    ]


def test_an_events_object_and_type_are_checked_too(objects: dict[str, dict[str, Any]]) -> None:
    event = objects["event"]

    renamed = _changed(event, lambda e: e.update(type="customer.subscription.renewed"))
    inner = _changed(event, lambda e: e["data"]["object"].pop("items"))
    previous = _changed(event, lambda e: e["data"].update(previous_attributes={"current_period_end": 1}))

    assert problems(renamed)[0].startswith("type: 'customer.subscription.renewed' is not one of")
    assert problems(inner) == ["data.object.items: missing (always present in Subscription)"]
    assert problems(previous) == ["data.previous_attributes.current_period_end: not a field of Subscription"]


def test_deleted_objects_and_errors_have_their_own_shapes(objects: dict[str, dict[str, Any]]) -> None:
    customer = objects["customer"]
    deleted = {"id": customer["id"], "object": "customer", "deleted": True}
    error = {"error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"}}

    assert problems(deleted) == []
    assert problems({**deleted, "email": None}) == ["<body>: a deleted object is exactly id, object and deleted"]
    assert problems(error) == []
    assert problems({"error": {"type": "card_error", "code": "card_refused"}}) == [
        "error.code: 'card_refused' is not an error code of the pinned version"
    ]
    assert problems({"error": {"message": "no type"}}) == ["error.type: missing (always present in ErrorObject)"]
