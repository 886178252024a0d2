"""Invoices (ownership, pagination, statements, the one-time backfill), retried plan changes,
and 3-D Secure completed through the webhook."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import stripe

from tests.support import table
from tests.support.billing import holds
from tests.support.lifecycle import MONTHLY, Billing, Lifecycle, mirrored_invoices
from tests.support.stripe import stripe_object

pytestmark = pytest.mark.usefixtures("lifecycle")


def _client(life: Lifecycle) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", http_client=life.sim.http_client())


def _with_history(life: Lifecycle, sub: str, months: int) -> Billing:
    account = Billing(sub).with_card()
    account.change("developer")
    for _ in range(months):
        life.advance(31)
    life.deliver()
    return account


def test_invoices_newest_first_in_pages(lifecycle: Lifecycle) -> None:
    ada = _with_history(lifecycle, "user-ada", 4)
    customer = lifecycle.subscription("user-ada")["customer"]
    stripe_order = [
        i["id"]
        for i in sorted(
            (i for i in lifecycle.sim.all("invoice") if i["customer"] == customer),
            key=lambda i: (i["created"], lifecycle.sim.sequence(i["id"])),
            reverse=True,
        )
    ]
    assert len(stripe_order) == 5

    seen, cursor, pages = [], None, 0
    while True:
        status, _, page = ada.invoices(limit=2, cursor=cursor)
        assert status == 200
        seen += [i["id"] for i in page["invoices"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == stripe_order
    assert pages == 3
    first = ada.invoices(limit=1)[2]["invoices"][0]
    assert (first["status"], first["amount_paid"], first["currency"]) == ("paid", MONTHLY["developer"], "usd")
    assert first["number"].endswith("-0005")
    assert first["period_start"] < first["period_end"]


def test_a_cursor_is_only_ours(lifecycle: Lifecycle) -> None:
    ada = _with_history(lifecycle, "user-ada", 0)
    forged = base64.urlsafe_b64encode(json.dumps({"after": "CARD#x"}).encode()).decode()

    assert ada.invoices(cursor="not-a-cursor")[0] == 400
    assert ada.invoices(cursor=forged)[0] == 400
    assert ada.invoices(limit=0)[0] == 422


def test_another_accounts_invoice_is_not_found(lifecycle: Lifecycle) -> None:
    ada = _with_history(lifecycle, "user-ada", 0)
    bob = _with_history(lifecycle, "user-bob", 0)
    [adas] = mirrored_invoices("user-ada")

    assert ada.invoice(adas)[0] == 200
    assert bob.invoice(adas)[0] == 404
    assert bob.invoice(adas, pdf=True)[0] == 404
    assert bob.invoice("in_doesnotexist")[0] == 404


def test_the_statement_redirects_to_the_pdf_and_a_draft_has_none(lifecycle: Lifecycle) -> None:
    ada = _with_history(lifecycle, "user-ada", 0)
    [invoice_id] = mirrored_invoices("user-ada")
    status, headers, _ = ada.invoice(invoice_id, pdf=True)
    assert status == 302
    pdf = stripe_object(lifecycle.sim, invoice_id, "invoice")["invoice_pdf"]
    assert {k.lower(): v for k, v in headers.items()}["location"] == pdf

    customer = lifecycle.subscription("user-ada")["customer"]
    draft = _client(lifecycle).v1.invoices.create({"customer": customer})
    lifecycle.deliver()
    assert ada.invoice(draft.id)[2]["status"] == "draft"
    status, _, problem = ada.invoice(draft.id, pdf=True)
    assert (status, problem["type"].rsplit(":", 1)[-1]) == (409, "invoice-is-draft")


def test_an_empty_mirror_is_backfilled_from_stripe_once(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    ada.change("developer")
    lifecycle.advance(31)
    lifecycle.sim.webhooks._pending.clear()  # the webhook never saw these invoices
    assert mirrored_invoices("user-ada") == {}
    lists_before = len(lifecycle.sim.calls_to("GET", "/v1/invoices"))

    page = ada.invoices()[2]
    again = ada.invoices()[2]

    assert len(page["invoices"]) == 2
    assert again == page
    assert len(lifecycle.sim.calls_to("GET", "/v1/invoices")) == lists_before + 1


def test_a_retried_plan_change_moves_no_money_twice(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    first = ada.change("developer", key="subscribe-ada-0001")
    lifecycle.advance(3)
    upgrade = ada.change("professional", key="upgrade-ada-0001")
    retries = [ada.change("developer", key="subscribe-ada-0001"), ada.change("professional", key="upgrade-ada-0001")]

    assert [r[0] for r in (first, upgrade, *retries)] == [200] * 4
    assert retries == [first, upgrade]
    charges = [p for p in lifecycle.sim.all("payment_intent") if p["capture_method"] != "manual"]
    assert len(charges) == 2  # the first invoice and the upgrade's proration
    assert len(lifecycle.sim.all("subscription")) == 1
    assert sorted(h["amount"] for h in holds("user-ada")) == [50_00, 500_00]
    other_body = ada.change("essential", key="upgrade-ada-0001")
    assert (other_body[0], other_body[2]["type"].rsplit(":", 1)[-1]) == (422, "idempotency-key-reused")
    assert ada.change("essential", key=None)[0] == 422


def test_3d_secure_completed_through_the_webhook_verifies_the_card(lifecycle: Lifecycle) -> None:
    cy = Billing("user-cy")
    assert cy.create_account("cy_lovelace")[0] == 201
    status, _, _ = cy.add("pm_card_threeDSecureRequired")
    assert status == 202
    lifecycle.sim.authenticate(lifecycle.sim.all("payment_intent")[0]["id"])
    lifecycle.deliver()

    [card] = cy.list()[2]["payment_methods"]
    assert (card["verification"], card["default"]) == ("verified", True)
    assert any(t == "payment_intent.amount_capturable_updated" and s == 200 for t, s, _ in lifecycle.answers)
    # This test card asks for 3-D Secure on every payment: Stripe cannot charge it off-session.
    status, _, problem = cy.change("developer")
    assert (status, problem["decline_code"]) == (402, "authentication_required")
    assert lifecycle.sim.all("subscription") == []


def test_the_subscription_view_shows_the_spending_limit_and_period(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    view: dict[str, Any] = ada.change("professional")[2]
    stripe_sub = lifecycle.subscription("user-ada")

    assert view["spending_limit"] == 500_00
    assert view["status"] == "active"
    assert view["current_period_end"].startswith(
        __import__("datetime")
        .datetime.fromtimestamp(stripe_sub["items"]["data"][0]["current_period_end"], __import__("datetime").UTC)
        .strftime("%Y-%m-%dT%H:%M:%S")
    )
    assert table.existing("ACCOUNT#user-ada", "PROFILE")["plan"] == "professional"


def test_voided_and_uncollectible_invoices_are_mirrored(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    ada.change("developer")
    customer = lifecycle.subscription("user-ada")["customer"]
    client = _client(lifecycle)
    first = client.v1.invoices.create({"customer": customer}).id
    second = client.v1.invoices.create({"customer": customer}).id
    for invoice in (first, second):
        client.v1.invoices.finalize_invoice(invoice)
    lifecycle.deliver()
    assert [ada.invoice(i)[2]["status"] for i in (first, second)] == ["open", "open"]

    client.v1.invoices.void_invoice(first)
    client.v1.invoices.mark_uncollectible(second)
    lifecycle.deliver()

    assert [ada.invoice(i)[2]["status"] for i in (first, second)] == ["void", "uncollectible"]
    assert ada.invoice(first, pdf=True)[0] == 302  # a final invoice keeps its statement


def test_a_lost_subscribe_answer_retried_with_a_new_key_subscribes_once(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    # Stripe subscribes and charges, but every answer is lost on the way back (retries included)
    lifecycle.sim.inject("timeout_after", method="POST", path="/v1/subscriptions", times=3)
    assert ada.change("developer", key="subscribe-ada-lost")[0] == 503
    assert len(lifecycle.sim.all("subscription")) == 1

    # the web app retries with a new Idempotency-Key before any webhook has arrived
    status, _, body = ada.change("developer", key="subscribe-ada-new-key")

    assert status == 200, body
    assert body["plan"] == "developer"
    assert len(lifecycle.sim.all("subscription")) == 1
    charges = [p for p in lifecycle.sim.all("payment_intent") if p["capture_method"] != "manual"]
    assert len(charges) == 1  # the first invoice, charged once
