"""The simulator takes exactly the parameters stripe-python's generated request types define for
an endpoint at the pinned API version, nested ones included, and answers anything else as Stripe
does: 400, `invalid_request_error`, the bracketed `param`, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from stripe.params import PaymentIntentCreateParams, SubscriptionScheduleUpdateParams

from stripe_simulator import Simulator, WebhookEndpoint, sdk
from stripe_simulator.resources import ROUTES


def _refused(request: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        request()
    assert refused.value.http_status == 400
    assert refused.value.error is not None
    assert refused.value.error.type == "invalid_request_error"
    return refused.value


def _subscribed(client: stripe.StripeClient) -> tuple[str, Any]:
    customer = client.v1.customers.create({"metadata": {"account": "a"}}).id
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer}).id
    sub = client.v1.subscriptions.create(
        {
            "customer": customer,
            "items": [{"price": "price_large"}],
            "default_payment_method": pm,
            "payment_behavior": "error_if_incomplete",
        }
    )
    return customer, sub


def test_each_endpoint_is_the_sdks_own_method_path_and_params_type() -> None:
    update = sdk.endpoint("v1.subscription_schedules.update")

    assert (update.method, update.template) == ("POST", "/v1/subscription_schedules/{schedule}")
    assert update.params is SubscriptionScheduleUpdateParams
    assert sdk.endpoint("v1.payment_intents.create").params is PaymentIntentCreateParams
    # Every simulated route resolves to an endpoint of the SDK, and no two answer the same request.
    table = {(route.endpoint.method, route.endpoint.template) for route in ROUTES}
    assert len(table) == len(ROUTES)
    assert table <= set(sdk.all_endpoints())


def test_a_removed_nested_parameter_is_unknown_and_the_schedule_is_unchanged(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    _, sub = _subscribed(client)
    schedule = client.v1.subscription_schedules.create({"from_subscription": sub.id})
    phase = schedule.phases[0]
    phases: Any = [
        {"items": [{"price": "price_large"}], "start_date": phase.start_date, "end_date": phase.end_date},
        {"items": [{"price": "price_small"}], "iterations": 1},
    ]

    refused = _refused(lambda: client.v1.subscription_schedules.update(schedule.id, {"phases": phases}))

    assert (refused.code, refused.param) == ("parameter_unknown", "phases[1][iterations]")
    assert refused.user_message == "Received unknown parameter: phases[1][iterations]"
    assert len(client.v1.subscription_schedules.retrieve(schedule.id).phases) == 1


def test_unknown_parameters_at_any_depth_are_refused_and_nothing_is_created(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    top: Any = {"amount": 5000, "currency": "usd", "payment_method_types": ["card"]}
    nested: Any = {"amount": 5000, "currency": "usd", "payment_method_options": {"card": {"colour": "blue"}}}
    in_a_list: Any = {"customer": "cus_x", "items": [{"price": "price_small", "plan_id": "x"}]}

    assert _refused(lambda: client.v1.payment_intents.create(top)).param == "payment_method_types"
    assert _refused(lambda: client.v1.payment_intents.create(nested)).param == ("payment_method_options[card][colour]")
    assert _refused(lambda: client.v1.subscriptions.create(in_a_list)).param == "items[0][plan_id]"
    assert sim.all("payment_intent") == []
    assert sim.all("subscription") == []


def test_values_of_the_wrong_type_are_refused_with_stripes_codes(client: stripe.StripeClient) -> None:
    def create(**params: Any) -> Any:
        sent: Any = {"amount": 5000, "currency": "usd", **params}
        return lambda: client.v1.payment_intents.create(sent)

    integer = _refused(create(amount="fifty"))
    boolean = _refused(create(confirm="maybe"))
    enum = _refused(create(capture_method="sometimes"))
    empty = _refused(create(customer=""))
    hash_ = _refused(create(metadata="note"))
    no_currency: Any = {"amount": 5000}
    missing = _refused(lambda: client.v1.payment_intents.create(no_currency))

    assert (integer.code, integer.param, integer.user_message) == (
        "parameter_invalid_integer",
        "amount",
        "Invalid integer: fifty",
    )
    assert (boolean.param, boolean.user_message) == ("confirm", "Invalid boolean: maybe")
    assert enum.param == "capture_method"
    assert enum.user_message == "Invalid capture_method: must be one of automatic, automatic_async, manual"
    assert (empty.code, empty.param) == ("parameter_invalid_empty", "customer")
    assert (hash_.param, hash_.user_message) == ("metadata", "Invalid hash")
    assert (missing.code, missing.param) == ("parameter_missing", "currency")


def test_an_empty_string_unsets_only_what_the_type_lets_be_unset(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({"email": "ada@example.com", "metadata": {"a": "1", "b": "2"}})

    updated = client.v1.customers.update(customer.id, {"metadata": {"a": ""}})
    refused = _refused(lambda: client.v1.customers.update(customer.id, {"email": ""}))

    assert updated.to_dict()["metadata"] == {"b": "2"}
    assert (refused.code, refused.param) == ("parameter_invalid_empty", "email")
    assert client.v1.customers.retrieve(customer.id).email == "ada@example.com"


def test_typed_values_reach_the_endpoint(client: stripe.StripeClient, sim: Simulator) -> None:
    customer = client.v1.customers.create({})

    client.v1.payment_intents.create(
        {"amount": 5000, "currency": "usd", "customer": customer.id, "payment_method": "pm_card_visa", "confirm": True}
    )

    [intent] = sim.all("payment_intent")
    assert (intent["amount"], intent["status"]) == (5000, "succeeded")
    assert sim.calls_to("POST", "/v1/payment_intents")[0].params["amount"] == "5000"  # as it was sent


def test_a_refused_request_does_not_use_up_its_idempotency_key(client: stripe.StripeClient, sim: Simulator) -> None:
    bad: Any = {"amount": 5000, "currency": "usd", "colour": "blue"}
    _refused(lambda: client.v1.payment_intents.create(bad, {"idempotency_key": "k-1"}))

    intent = client.v1.payment_intents.create({"amount": 5000, "currency": "usd"}, {"idempotency_key": "k-1"})

    assert [i["id"] for i in sim.all("payment_intent")] == [intent.id]


def test_what_stripe_has_but_the_simulator_does_not_is_a_gap_not_an_answer(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    with pytest.raises(sdk.NotSimulated, match=r"v1\.charges\.capture"):
        client.v1.charges.capture("ch_123")
    with pytest.raises(sdk.NotSimulated, match="Stripe-Version"):
        stripe.StripeClient(
            "sk_test_x", http_client=sim.http_client(), stripe_version="2024-06-20"
        ).v1.customers.create({})

    response = sim.handle("POST", "https://api.stripe.com/v1/nothing_here", {"Authorization": "Bearer sk_test_x"}, "")

    assert response.status == 404
    assert response.body["error"]["message"] == "Unrecognized request URL (POST: /v1/nothing_here)."


def test_events_and_webhook_subscriptions_are_limited_to_the_versions_event_types(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="not an event type"):
        sim.run(lambda: sim.emit("customer.subscription.renewed", {"id": "sub_1", "object": "subscription"}))
    with pytest.raises(ValueError, match="enabled_events"):
        WebhookEndpoint(lambda body, headers: 200, enabled_events=("invoice.paid", "invoice.renewed"))

    assert "invoice.paid" in sdk.event_types()
    assert "*" in sdk.webhook_event_types()


def test_the_webhook_function_expects_only_event_types_of_the_pinned_version() -> None:
    from account_billing.billing.webhooks import payment_intents, service  # noqa: PLC0415

    expected = (
        service.INVOICE_EVENTS
        | service.SUBSCRIPTION_EVENTS
        | service.SCHEDULE_EVENTS
        | service.HOLD_EVENTS
        | service.LOGGED_ONLY
        | set(payment_intents.HANDLED)
    )

    assert sorted(expected - sdk.event_types()) == []
