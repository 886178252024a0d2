"""Billing details: kept on the Stripe customer and mirrored for reading, shown on invoices,
ETag'd and idempotent; tax IDs checked in format here and refused by Stripe there; Stripe down;
erased with the account; payment notices go to the billing email."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from functions.subscriptions import app as subscriptions_app
from stripe_simulator.cards import CARDS
from tests.support import table
from tests.support.events import call, http_event
from tests.support.lifecycle import Billing, Lifecycle, Result, mirrored_invoices
from tests.support.mailbox import messages_to
from tests.support.profile import ProfileClient
from tests.support.stripe import stripe_object

pytestmark = pytest.mark.usefixtures("lifecycle")

DETAILS: dict[str, Any] = {
    "name": "Ada Lovelace",
    "company": "Analytical Engines Ltd",
    "email": "ap@engines.example.com",
    "address": {"line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"},
    "tax_ids": [{"type": "gb_vat", "value": "GB123456789"}, {"type": "eu_vat", "value": "DE123456789"}],
}


def get(account: Billing) -> Result:
    return call(subscriptions_app.lambda_handler, http_event("subscriptions/get_billing_details", sub=account.sub))


def put(account: Billing, body: Any, *, if_match: str | None = None, key: str | None = None) -> Result:
    headers = {"idempotency-key": key or str(uuid.uuid4()), "if-match": if_match}
    event = http_event("subscriptions/replace_billing_details", sub=account.sub, body=body, headers=headers)
    return call(subscriptions_app.lambda_handler, event)


def _customer(life: Lifecycle, sub: str) -> dict[str, Any]:
    [customer] = [c for c in life.sim.all("customer") if c["metadata"].get("account") == sub]
    return customer


def _etag(headers: dict[str, str]) -> str:
    return {k.lower(): v for k, v in headers.items()}["etag"]


def test_details_are_kept_at_stripe_and_read_back_with_an_etag(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    status, headers, empty = get(ada)
    assert (status, empty["tax_ids"], empty["address"], _etag(headers)) == (200, [], None, '"v0"')

    status, headers, saved = put(ada, DETAILS, if_match='"v0"')

    assert status == 200, saved
    assert _etag(headers) == '"v1"'
    customer = _customer(lifecycle, "user-ada")
    assert (customer["name"], customer["business_name"], customer["email"]) == (
        "Ada Lovelace",
        "Analytical Engines Ltd",
        "ap@engines.example.com",
    )
    assert (customer["address"]["line1"], customer["address"]["country"], customer["address"]["line2"]) == (
        "12 St James's Square",
        "GB",
        None,
    )
    at_stripe = sorted(t["value"] for t in lifecycle.sim.all("tax_id") if t["customer"] == customer["id"])
    assert at_stripe == ["DE123456789", "GB123456789"]
    status, headers, read = get(ada)
    assert (status, _etag(headers)) == (200, '"v1"')
    assert read == saved
    assert [t["value"] for t in read["tax_ids"]] == ["GB123456789", "DE123456789"]
    assert read["tax_ids"][1]["verification"] == "pending"


def test_invoices_show_the_details_from_then_on(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    assert put(ada, DETAILS)[0] == 200
    assert ada.change("developer")[0] == 200
    lifecycle.deliver()

    [invoice_id] = mirrored_invoices("user-ada")
    invoice = stripe_object(lifecycle.sim, invoice_id, "invoice")
    assert invoice["customer_name"] == "Ada Lovelace"
    assert invoice["customer_email"] == "ap@engines.example.com"
    assert invoice["customer_address"]["postal_code"] == "SW1Y 4JH"
    assert [t["value"] for t in invoice["customer_tax_ids"]] == ["GB123456789", "DE123456789"]


def test_replacing_removes_what_is_left_out_and_a_stale_etag_is_412(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    assert put(ada, DETAILS)[0] == 200

    status, _, problem = put(ada, {"name": "Ada"}, if_match='"v0"')
    assert status == 412, problem
    status, headers, saved = put(ada, {"name": "Ada"}, if_match='"v1"')

    assert (status, _etag(headers)) == (200, '"v2"')
    assert (saved["company"], saved["address"], saved["tax_ids"]) == (None, None, [])
    customer = _customer(lifecycle, "user-ada")
    assert (customer["business_name"], customer["address"]) == (None, None)
    assert [t for t in lifecycle.sim.all("tax_id") if t["customer"] == customer["id"]] == []


def test_a_retry_with_the_same_key_answers_the_same(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    first = put(ada, DETAILS, key="details-ada-0001")
    again = put(ada, DETAILS, key="details-ada-0001")

    assert first[0] == again[0] == 200
    assert again[2] == first[2]
    assert len(lifecycle.sim.all("tax_id")) == 2
    assert _etag(get(ada)[1]) == '"v1"'


@pytest.mark.parametrize(
    "tax_id",
    [
        {"type": "eu_vat", "value": "123"},
        {"type": "gb_vat", "value": "FR123456789"},
        {"type": "us_ein", "value": "12345"},
        {"type": "not_a_type", "value": "123456789"},
    ],
)
def test_a_tax_id_in_the_wrong_format_is_422_and_changes_nothing(lifecycle: Lifecycle, tax_id: Any) -> None:
    ada = Billing("user-ada").with_card()

    status, _, problem = put(ada, {**DETAILS, "tax_ids": [tax_id]})

    assert status == 422, problem
    assert lifecycle.sim.all("tax_id") == []
    assert get(ada)[2]["name"] is None


def test_a_tax_id_stripe_rejects_is_422_and_changes_nothing(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    # the shape of an EU VAT number, but no member state's prefix: Stripe refuses it
    rejected = {"type": "eu_vat", "value": "XX123456789"}

    status, _, problem = put(ada, {**DETAILS, "tax_ids": [DETAILS["tax_ids"][0], rejected]})

    assert (status, problem["type"].rsplit(":", 1)[-1]) == (422, "tax-id-rejected")
    customer = _customer(lifecycle, "user-ada")
    assert [t for t in lifecycle.sim.all("tax_id") if t["customer"] == customer["id"]] == []
    assert customer["name"] is None
    assert get(ada)[2]["tax_ids"] == []


def test_stripe_down_is_503_and_the_mirror_keeps_what_it_had(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    assert put(ada, {"name": "Ada"})[0] == 200
    lifecycle.sim.inject("api_error", method="POST", path="/v1/customers/", times=10)

    status, _, _ = put(ada, DETAILS, if_match='"v1"')

    assert status == 503
    assert get(ada)[2]["company"] is None
    assert _etag(get(ada)[1]) == '"v1"'


def test_bad_input_is_a_problem(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    for body in (
        {"email": "not-an-address"},
        {"address": {"line1": "x", "country": "gb"}},
        {"tax_ids": [DETAILS["tax_ids"][0]] * 2},
        {"unknown": 1},
    ):
        assert put(ada, body)[0] == 422, body
    assert lifecycle.sim.all("tax_id") == []


def test_deleting_the_account_erases_the_details(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    assert put(ada, DETAILS)[0] == 200
    customer = _customer(lifecycle, "user-ada")

    status, _, _ = ProfileClient("user-ada").delete("user_ada")

    assert status in (202, 204)
    assert table.item("ACCOUNT#user-ada", "BILLING_DETAILS") is None
    assert lifecycle.sim.private(customer["id"]).get("deleted") is True


def test_payment_notices_go_to_the_billing_email(lifecycle: Lifecycle) -> None:
    ada = Billing("user-ada").with_card()
    assert put(ada, DETAILS)[0] == 200
    assert ada.change("developer")[0] == 200
    lifecycle.deliver()
    customer = _customer(lifecycle, "user-ada")
    for pm in lifecycle.sim.all("payment_method"):
        if pm["customer"] == customer["id"]:
            lifecycle.sim.private(pm["id"])["card"] = CARDS["chargeCustomerFail"]
    lifecycle.advance(31)
    lifecycle.deliver()

    mail = messages_to("ap@engines.example.com")
    subjects = [m.subject for m in mail]
    assert subjects.count("Payment received: 29.00 USD") == 1
    assert subjects.count("Payment failed: 29.00 USD is due") == 1
    [failed] = [m for m in mail if m.subject.startswith("Payment failed")]
    [due] = [i for i in mirrored_invoices("user-ada").values() if i["status"] == "open"]
    assert f"/settings/billing/invoices/{due['invoice_id']}" in failed.body
