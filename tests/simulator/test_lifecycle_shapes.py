"""A recorded run of the whole billing lifecycle through the simulator, driven by the production
gateway (and stripe-python where the service has no call of its own), and every object the
simulator answered walked against stripe-python's resource classes for the pinned API version:
response bodies, error bodies, events and webhook deliveries."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import stripe

from account_billing.billing.details.errors import TaxIdRejected
from account_billing.billing.errors import CardDeclined
from account_billing.billing.stripe.api import StripeApi
from account_billing.billing.stripe.client import stripe_client
from account_billing.billing.stripe.gateway import StripeGateway
from account_billing.billing.stripe.results import CancellationReason
from stripe_simulator import Clock, Simulator, WebhookEndpoint
from stripe_simulator.resources import ROUTES
from stripe_simulator.routing import Route
from stripe_simulator.shapes import problems
from tests.support.stripe import START, TEST_KEY


class Run:
    """The simulator recording every answer, its webhook deliveries, and the clients."""

    def __init__(self) -> None:
        self.sim = Simulator(Clock(START, frozen=True), record=True)
        self.deliveries: list[dict[str, Any]] = []
        self.endpoint = self.sim.add_webhook_endpoint(WebhookEndpoint(self._receive))
        self.client = stripe_client(TEST_KEY, http_client=self.sim.http_client())
        self.gateway = StripeGateway(StripeApi(self.client, sleep=lambda _: None))

    def _receive(self, body: bytes, headers: dict[str, str]) -> int:
        stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], self.endpoint.secret)
        self.deliveries.append(json.loads(body))
        return 200

    def advance(self, days: float) -> None:
        self.sim.advance(timedelta(days=days))
        self.sim.tick()

    def bodies(self) -> list[tuple[str, Any]]:
        """(where it came from, body) for everything the run answered or sent."""
        answered = [(f"{c.method} {c.path} → {c.status}", c.response) for c in self.sim.calls if c.response]
        events = [(f"event {e['type']}", e) for e in self.sim.events()]
        delivered = [(f"delivery of {d['type']}", d) for d in self.deliveries]
        return answered + events + delivered


def _cards_and_holds(run: Run, customer: str) -> str:
    """Collect cards (SetupIntents, attach, detach), hold and release money, decline, 3-D Secure."""
    gateway, client = run.gateway, run.client
    assert gateway.cards.setup_intent(customer).startswith("seti_")
    collected = client.v1.setup_intents.create({"customer": customer, "usage": "off_session"})
    confirmed = client.v1.setup_intents.confirm(collected.id, {"payment_method": "pm_card_mastercard"})
    assert client.v1.setup_intents.retrieve(confirmed.id).status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError):  # already succeeded: the error carries the SetupIntent
        client.v1.setup_intents.confirm(confirmed.id)
    client.v1.setup_intents.cancel(client.v1.setup_intents.create({"customer": customer}).id)
    with pytest.raises(stripe.CardError):
        client.v1.setup_intents.create(
            {"customer": customer, "payment_method": "pm_card_chargeDeclined", "confirm": True}
        )

    card = gateway.cards.attach("pm_card_visa", customer, "request-1")
    assert gateway.cards.payment_method(card.payment_method_id).last4 == "4242"
    gateway.customers.set_default_payment_method(customer, card.payment_method_id)
    with pytest.raises(CardDeclined):
        gateway.cards.attach("pm_card_chargeDeclinedInsufficientFunds", customer, "request-2")
    client.v1.payment_methods.create({"type": "card", "card": {"token": "tok_amex"}})
    client.v1.payment_methods.list({"customer": customer})
    client.v1.customers.payment_methods.list(customer, {"type": "card"})

    hold = gateway.holds.authorize(
        hold_id="hold-1",
        account_key="acct-1",
        customer_id=customer,
        payment_method_id=card.payment_method_id,
        amount=5000,
        currency="usd",
    )
    assert hold.status == "authorized"
    assert gateway.holds.find_authorization(customer, "hold-1", START - 60) == hold
    assert gateway.holds.release(hold.payment_intent_id, hold_id="hold-1", attempt=1).outcome == "canceled"

    captured = gateway.holds.authorize(
        hold_id="hold-2",
        account_key="acct-1",
        customer_id=customer,
        payment_method_id=card.payment_method_id,
        amount=5000,
        currency="usd",
    )
    intent = client.v1.payment_intents.capture(captured.payment_intent_id, {"amount_to_capture": 4000})
    client.v1.charges.retrieve(str(intent.latest_charge))
    assert gateway.holds.release(captured.payment_intent_id, hold_id="hold-2", attempt=1).outcome == "refunded"
    client.v1.refunds.retrieve(client.v1.refunds.list({"payment_intent": intent.id}).data[0].id)

    secure = gateway.cards.attach("pm_card_threeDSecureRequired", customer, "request-3")
    asking = gateway.holds.authorize(
        hold_id="hold-3",
        account_key="acct-1",
        customer_id=customer,
        payment_method_id=secure.payment_method_id,
        amount=5000,
        currency="usd",
    )
    assert asking.status == "requires_action"
    run.sim.authenticate(asking.payment_intent_id)
    assert gateway.holds.authorization(asking.payment_intent_id).status == "authorized"
    manual = client.v1.payment_intents.create(
        {"amount": 900, "currency": "usd", "customer": customer, "capture_method": "manual"}
    )
    client.v1.payment_intents.confirm(manual.id, {"payment_method": secure.payment_method_id})
    client.v1.payment_intents.cancel(manual.id, {"cancellation_reason": "abandoned"})

    failing = gateway.cards.attach("pm_card_chargeCustomerFail", customer, "request-4")
    with pytest.raises(CardDeclined):
        gateway.holds.authorize(
            hold_id="hold-4",
            account_key="acct-1",
            customer_id=customer,
            payment_method_id=failing.payment_method_id,
            amount=5000,
            currency="usd",
        )
    gateway.cards.detach(secure.payment_method_id)
    return failing.payment_method_id


def _subscriptions_and_invoices(run: Run, customer: str, failing_card: str) -> None:
    """Subscribe, upgrade, downgrade at the period end, undo, renew, fail a renewal, cancel."""
    gateway, client = run.gateway, run.client
    product = client.v1.products.create({"name": "Plans"})
    small = client.v1.prices.create(
        {"product": product.id, "unit_amount": 1000, "currency": "usd", "recurring": {"interval": "month"}}
    )
    large = client.v1.prices.create(
        {"product": product.id, "unit_amount": 4000, "currency": "usd", "recurring": {"interval": "month"}}
    )
    client.v1.prices.list({"product": product.id, "active": True})
    client.v1.prices.retrieve(small.id)
    client.v1.products.retrieve(product.id)
    invoice_settings = client.v1.customers.retrieve(customer).invoice_settings
    assert invoice_settings is not None
    card = str(invoice_settings.default_payment_method)
    subscriptions, invoices = gateway.subscriptions, gateway.invoices

    assert invoices.preview(customer, price_id=small.id).amount_due == 1000
    sub = subscriptions.create(
        customer_id=customer, price_id=small.id, account_key="acct-1", payment_method_id=card, idempotency_key="s1"
    )
    run.advance(10)
    invoices.preview(
        customer, price_id=large.id, subscription_id=sub.id, item_id=sub.item_id, proration_behavior="always_invoice"
    )
    subscriptions.change_price(sub.id, sub.item_id, large.id, card, "up-1")

    scheduled = subscriptions.schedule_price_change(sub.id, large.id, small.id, "down-1")
    assert subscriptions.schedule(scheduled.id).phases[1].price_id == small.id
    subscriptions.release_schedule(scheduled.id)
    leaving = subscriptions.set_cancel_at_period_end(
        sub.id, True, "cancel-1", CancellationReason("too_expensive", "Only a few months a year")
    )
    assert leaving.cancel_at_period_end
    subscriptions.set_cancel_at_period_end(sub.id, False, "cancel-1-undo")
    subscriptions.schedule_price_change(sub.id, large.id, small.id, "down-2")
    run.advance(25)  # the period ends: Small from now on, renewed at its price
    assert subscriptions.retrieve(sub.id).price_id == small.id

    client.v1.subscriptions.update(sub.id, {"default_payment_method": failing_card})
    run.advance(31)  # the renewal fails: past_due
    unpaid = invoices.retrieve(str(client.v1.subscriptions.retrieve(sub.id).latest_invoice))
    assert unpaid is not None
    assert unpaid.status == "open"
    client.v1.invoices.pay(unpaid.id, {"payment_method": card})
    paid = invoices.retrieve(unpaid.id)
    assert paid is not None
    assert paid.payment is not None
    assert paid.payment.last4 == "4242"
    assert len(client.v1.invoices.line_items.list(unpaid.id, {"limit": 1}).data) == 1
    [payment] = client.v1.invoice_payments.list({"invoice": unpaid.id}).data
    assert client.v1.invoice_payments.retrieve(payment.id).status == "paid"
    assert subscriptions.of_customer(customer)[0].status == "active"
    invoices.of_customer(customer)
    client.v1.invoices.list({"customer": customer, "subscription": sub.id, "status": "paid"})

    manual = client.v1.invoices.create({"customer": customer, "auto_advance": False})
    client.v1.invoices.finalize_invoice(manual.id)
    client.v1.invoices.mark_uncollectible(manual.id)
    client.v1.invoices.void_invoice(manual.id)

    assert subscriptions.ids_of(customer) == [sub.id]
    client.v1.subscriptions.retrieve(sub.id)
    subscriptions.cancel(sub.id)
    client.v1.subscriptions.list({"customer": customer, "status": "all"})


def test_every_object_of_a_whole_lifecycle_has_the_pinned_versions_shape() -> None:
    run = Run()
    customer = run.gateway.customers.create("acct-1", "customer-acct-1")
    run.client.v1.customers.update(customer, {"email": "ada@example.com", "name": "Ada"})
    run.client.v1.customers.update(
        customer, {"business_name": "Engines Ltd", "address": {"line1": "1 Main St", "country": "GB"}}
    )
    kept = run.gateway.details.add_tax_id(customer, "gb_vat", "GB123456789", "tax-1")
    dropped = run.gateway.details.add_tax_id(customer, "eu_vat", "DE000000000", "tax-2")
    run.client.v1.customers.tax_ids.retrieve(customer, dropped.id)
    run.gateway.details.remove_tax_id(customer, dropped.id)
    assert [t.id for t in run.gateway.details.tax_ids(customer)] == [kept.id]
    with pytest.raises(TaxIdRejected):
        run.gateway.details.add_tax_id(customer, "eu_vat", "XX123456789", "tax-3")
    failing_card = _cards_and_holds(run, customer)
    _subscriptions_and_invoices(run, customer, failing_card)
    run.client.v1.events.retrieve(run.client.v1.events.list({"limit": 3}).data[0].id)
    with pytest.raises(stripe.InvalidRequestError):  # an error body is a shape too
        run.client.v1.invoices.retrieve("in_missing")
    assert run.sim.webhooks.deliver_pending() == len(run.sim.events())
    run.gateway.customers.delete(customer)
    run.client.v1.customers.retrieve(customer)

    found = [f"{where}: {problem}" for where, body in run.bodies() for problem in problems(body)]

    assert found == []
    assert len(run.deliveries) > 50
    # The run went through every endpoint the simulator has.
    answered = [(c.method, c.path) for c in run.sim.calls if c.status is not None]
    assert [route.call for route in ROUTES if not any(_answers(route, call) for call in answered)] == []


def _answers(route: Route, call: tuple[str, str]) -> bool:
    method, path = call
    return route.endpoint.method == method and route.endpoint.pattern.fullmatch(path) is not None
