"""The offline Stripe simulator follows Stripe's documented behaviour, seen through stripe-python
(the client the production gateway uses)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
import stripe

from stripe_simulator import Clock, Simulator, WebhookEndpoint
from stripe_simulator.forms import decode
from stripe_simulator.resources.payment_intents import authenticate


@pytest.fixture
def sim() -> Simulator:
    return Simulator(Clock())


@pytest.fixture
def client(sim: Simulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_unit", http_client=sim.http_client(), max_network_retries=2)


def _customer(client: stripe.StripeClient) -> str:
    return client.v1.customers.create({"metadata": {"account": "a1"}}).id


def _hold(client: stripe.StripeClient, customer: str, pm: str, key: str | None = None, **extra: Any) -> Any:
    params: Any = {
        "amount": 5000,
        "currency": "usd",
        "customer": customer,
        "payment_method": pm,
        "capture_method": "manual",
        "confirm": True,
        **extra,
    }
    return client.v1.payment_intents.create(params, {"idempotency_key": key} if key else None)


def test_form_fields_decode_into_nested_hashes_and_lists() -> None:
    assert decode("a[b][0]=1&a[b][1]=2&metadata[k]=v&c=") == {"a": {"b": ["1", "2"]}, "metadata": {"k": "v"}, "c": ""}


def test_a_test_card_attaches_with_its_details_and_a_stable_fingerprint(client: stripe.StripeClient) -> None:
    customer = _customer(client)

    first = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
    second = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
    other = client.v1.payment_methods.attach("pm_card_mastercard", {"customer": customer})

    assert first.id != second.id  # each use of a shortcut is a new PaymentMethod...
    assert first.card is not None
    assert second.card is not None
    assert other.card is not None
    assert first.card.fingerprint == second.card.fingerprint  # ...of the same card
    assert other.card.fingerprint != first.card.fingerprint
    assert (first.card.brand, first.card.last4, first.customer) == ("visa", "4242", customer)


def test_declining_cards_fail_the_card_check_at_attachment(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_methods.attach("pm_card_chargeDeclinedInsufficientFunds", {"customer": _customer(client)})

    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"
    assert declined.value.error is not None
    assert declined.value.error.decline_code == "insufficient_funds"


def test_a_manual_capture_hold_waits_for_capture(client: stripe.StripeClient) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})

    intent = _hold(client, customer, pm.id)

    assert (intent.status, intent.amount_capturable, intent.amount_received) == ("requires_capture", 5000, 0)
    captured = client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 3000})
    assert (captured.status, captured.amount_received) == ("succeeded", 3000)


def test_a_card_that_attaches_but_fails_to_charge(client: stripe.StripeClient, sim: Simulator) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": customer})

    with pytest.raises(stripe.CardError) as declined:
        _hold(client, customer, pm.id)

    assert declined.value.error is not None
    assert declined.value.error.payment_intent is not None
    assert declined.value.error.payment_intent.status == "requires_payment_method"
    assert [e["type"] for e in sim.events() if e["type"].startswith("payment_intent.")][-1] == (
        "payment_intent.payment_failed"
    )


def test_3d_secure_asks_for_action_on_session_and_declines_off_session(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_authenticationRequired", {"customer": customer})

    on_session = _hold(client, customer, pm.id)
    with pytest.raises(stripe.CardError) as off_session:
        _hold(client, customer, pm.id, off_session=True)

    assert on_session.status == "requires_action"
    assert on_session.next_action is not None
    assert on_session.next_action.type == "use_stripe_sdk"
    assert off_session.value.code == "authentication_required"
    assert authenticate(sim, on_session.id)["status"] == "requires_capture"


def test_an_uncaptured_authorization_expires_after_seven_days(client: stripe.StripeClient, sim: Simulator) -> None:
    customer = _customer(client)
    intent = _hold(client, customer, client.v1.payment_methods.attach("pm_card_visa", {"customer": customer}).id)

    sim.clock.advance(timedelta(days=6, hours=23))
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"
    sim.clock.advance(timedelta(hours=2))
    expired = client.v1.payment_intents.retrieve(intent.id)

    assert (expired.status, expired.cancellation_reason) == ("canceled", "automatic")
    with pytest.raises(stripe.InvalidRequestError) as too_late:
        client.v1.payment_intents.capture(intent.id)
    assert too_late.value.code == "payment_intent_unexpected_state"


def test_refunds_are_capped_at_the_captured_amount(client: stripe.StripeClient) -> None:
    customer = _customer(client)
    intent = _hold(client, customer, client.v1.payment_methods.attach("pm_card_visa", {"customer": customer}).id)
    with pytest.raises(stripe.InvalidRequestError) as uncaptured:
        client.v1.refunds.create({"payment_intent": intent.id})
    client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 4000})

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create({"payment_intent": intent.id, "amount": 4001})
    partial = client.v1.refunds.create({"payment_intent": intent.id, "amount": 1500})
    rest = client.v1.refunds.create({"payment_intent": intent.id})
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create({"payment_intent": intent.id})

    assert uncaptured.value.code == "charge_not_refundable"
    assert too_much.value.code == "amount_too_large"
    assert (partial.amount, rest.amount) == (1500, 2500)
    assert again.value.code == "charge_already_refunded"


def test_an_idempotency_key_replays_the_first_answer_and_refuses_other_parameters(
    client: stripe.StripeClient, sim: Simulator
) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer}).id

    first = _hold(client, customer, pm, key="hold-key-1")
    again = _hold(client, customer, pm, key="hold-key-1")
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create({"amount": 6000, "currency": "usd"}, {"idempotency_key": "hold-key-1"})

    assert again.id == first.id
    assert len(sim.all("payment_intent")) == 1
    assert [c.replayed for c in sim.calls_to("POST", "/v1/payment_intents")] == [False, True, False]


def test_a_declined_answer_is_replayed_too(client: stripe.StripeClient, sim: Simulator) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": customer}).id
    for _ in range(2):
        with pytest.raises(stripe.CardError):
            _hold(client, customer, pm, key="declined-key")

    assert len(sim.all("payment_intent")) == 1


def test_unknown_parameters_are_rejected(client: stripe.StripeClient, sim: Simulator) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.payment_intents.create({"amount": 5000, "currency": "usd", "payment_method_types": ["card"]})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(stripe.InvalidRequestError) as nested:
        client.v1.customers.create({"invoice_settings": cast(Any, {"colour": "blue"})})

    assert (unknown.value.code, unknown.value.param) == ("parameter_unknown", "payment_method_types")
    assert nested.value.param == "invoice_settings[colour]"
    assert sim.all("payment_intent") == []


def test_a_key_that_is_not_a_test_key_is_refused(sim: Simulator) -> None:
    live = stripe.StripeClient("sk_live_nope", http_client=sim.http_client())

    with pytest.raises(stripe.AuthenticationError):
        live.v1.customers.create({})


def test_injected_faults_follow_stripes_retry_rules(client: stripe.StripeClient, sim: Simulator) -> None:
    customer = _customer(client)
    sim.inject("api_error", times=2)
    assert client.v1.customers.retrieve(customer).id == customer  # 500s are retried by stripe-python
    sim.inject("timeout", times=2)
    assert client.v1.customers.retrieve(customer).id == customer  # so are timeouts
    sim.inject("rate_limit", times=1)
    with pytest.raises(stripe.RateLimitError):  # 429s are left to the caller
        client.v1.customers.retrieve(customer)


def test_a_lost_answer_is_replayed_on_retry_with_the_same_key(client: stripe.StripeClient, sim: Simulator) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer}).id
    sim.inject("timeout_after", method="POST", path="/v1/payment_intents", times=1)

    intent = _hold(client, customer, pm, key="lost-1")

    assert intent.status == "requires_capture"
    assert len(sim.all("payment_intent")) == 1
    assert [c.replayed for c in sim.calls_to("POST", "/v1/payment_intents")] == [False, True]


def test_events_are_delivered_signed_and_verify_with_stripe_python(client: stripe.StripeClient, sim: Simulator) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    def receive(body: bytes, headers: dict[str, str]) -> int:
        received.append((body, headers))
        return 200

    endpoint = sim.add_webhook_endpoint(WebhookEndpoint(receive, enabled_events=("customer.created",)))
    _customer(client)
    assert received == []  # asynchronous, as at Stripe

    assert sim.webhooks.deliver_pending() == 1

    [(body, headers)] = received
    event = stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], endpoint.secret)
    assert event.type == "customer.created"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], "whsec_wrong")


def test_a_failed_delivery_is_retried(sim: Simulator, client: stripe.StripeClient) -> None:
    answers = iter([500, 200])
    sim.add_webhook_endpoint(WebhookEndpoint(lambda body, headers: next(answers)))
    _customer(client)

    assert sim.webhooks.deliver_pending() == 0
    assert sim.webhooks.deliver_pending() == 1
    assert sim.webhooks.pending == 0


def test_lists_page_newest_first(client: stripe.StripeClient) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer}).id
    ids = [_hold(client, customer, pm).id for _ in range(3)]

    page = client.v1.payment_intents.list({"customer": customer, "limit": 2})
    rest = client.v1.payment_intents.list({"customer": customer, "limit": 2, "starting_after": page.data[-1].id})

    assert [i.id for i in page.data] == ids[::-1][:2]
    assert page.has_more is True
    assert [i.id for i in rest.data] == ids[:1]


def test_the_served_simulator_is_what_a_client_with_its_api_base_reaches() -> None:
    from account_billing.billing.stripe.api import StripeApi  # noqa: PLC0415
    from account_billing.billing.stripe.client import stripe_client  # noqa: PLC0415
    from account_billing.billing.stripe.gateway import StripeGateway  # noqa: PLC0415
    from stripe_simulator import SimulatorServer  # noqa: PLC0415

    mine = Simulator()
    with SimulatorServer(mine) as server:
        gateway = StripeGateway(StripeApi(stripe_client("sk_test_served", api_base=server.url)))
        gateway.customers.create("acct-9", "customer-acct-9")
    assert [c["metadata"] for c in mine.all("customer")] == [{"account": "acct-9"}]


def test_webhooks_reach_an_http_endpoint_signed(client: stripe.StripeClient, sim: Simulator) -> None:
    import threading  # noqa: PLC0415
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: PLC0415

    received: list[tuple[bytes, str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = sim.add_webhook_endpoint(
            WebhookEndpoint.http(f"http://127.0.0.1:{server.server_port}/webhook", enabled_events=("customer.created",))
        )
        _customer(client)
        assert sim.webhooks.deliver_pending() == 1
    finally:
        server.shutdown()
    [(body, signature)] = received
    assert stripe.Webhook.construct_event(body.decode(), signature, endpoint.secret).type == "customer.created"


def test_3d_secure_completes_through_the_simulator(client: stripe.StripeClient, sim: Simulator) -> None:
    customer = _customer(client)
    pm = client.v1.payment_methods.attach("pm_card_threeDSecureRequired", {"customer": customer})
    intent = _hold(client, customer, pm.id)

    failed = sim.authenticate(intent.id, succeed=False)

    assert failed["status"] == "requires_payment_method"
    assert sim.events("payment_intent.payment_failed")
