"""Invoice detail (lines, totals, the card that paid, the hosted page and receipt), the fixed
order of invoices created in the same second, and the statement PDF the simulator serves."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from stripe_simulator import Clock, SimulatorServer
from tests.support.lifecycle import MONTHLY, Billing, Lifecycle, mirrored_invoices

pytestmark = pytest.mark.usefixtures("lifecycle")


@pytest.fixture
def served(lifecycle: Lifecycle) -> Iterator[SimulatorServer]:
    """The simulator also served over HTTP, as the local stack serves it: statements download."""
    with SimulatorServer(lifecycle.sim) as server:
        yield server


def _subscribed(life: Lifecycle, sub: str, plan: str = "developer") -> Billing:
    account = Billing(sub).with_card()
    assert account.change(plan)[0] == 200
    life.deliver()
    return account


def _newest(account: Billing) -> dict[str, Any]:
    status, _, page = account.invoices(limit=1)
    assert status == 200
    status, _, detail = account.invoice(page["invoices"][0]["id"])
    assert status == 200
    assert isinstance(detail, dict)
    return detail


def test_a_paid_invoice_shows_its_line_totals_card_and_links(lifecycle: Lifecycle) -> None:
    ada = _subscribed(lifecycle, "user-ada")

    detail = _newest(ada)

    [line] = detail["lines"]
    assert line["amount"] == MONTHLY["developer"]
    assert (line["quantity"], line["proration"]) == (1, False)
    assert "Developer" in line["description"]
    assert line["period_start"] < line["period_end"]
    price = MONTHLY["developer"]
    assert (detail["subtotal"], detail["tax"], detail["total"]) == (price, 0, price)
    assert (detail["amount_paid"], detail["amount_remaining"], detail["status"]) == (price, 0, "paid")
    assert detail["payment_method"] == {"type": "card", "brand": "visa", "last4": "4242"}
    assert detail["paid_at"] is not None
    assert detail["hosted_invoice_url"].startswith("https://invoice.stripe.com/i/")
    assert detail["receipt_url"].startswith("https://pay.stripe.com/receipts/payment/")
    assert detail["statement_url"] == f"/v1/billing/invoices/{detail['id']}/pdf"


def test_an_upgrade_invoice_lists_its_prorations(lifecycle: Lifecycle) -> None:
    ada = _subscribed(lifecycle, "user-ada")
    lifecycle.advance(10)
    assert ada.change("professional")[0] == 200
    lifecycle.deliver()

    detail = _newest(ada)

    assert detail["billing_reason"] == "subscription_update"
    assert [line["proration"] for line in detail["lines"]] == [True, True]
    credit, charge = sorted(line["amount"] for line in detail["lines"])
    assert credit < 0 < charge
    assert detail["total"] == credit + charge == detail["amount_paid"]


def test_invoices_created_in_the_same_second_page_in_one_fixed_order(lifecycle: Lifecycle) -> None:
    lifecycle.sim.clock = Clock(lifecycle.sim.now(), frozen=True)  # Stripe's clock stands still
    ada = _subscribed(lifecycle, "user-ada")
    for plan in ("essential", "professional"):
        assert ada.change(plan)[0] == 200
    lifecycle.deliver()
    created = {i["created"] for i in mirrored_invoices("user-ada").values()}
    assert len(created) == 1
    assert len(mirrored_invoices("user-ada")) == 3

    whole = [i["id"] for i in ada.invoices(limit=100)[2]["invoices"]]
    paged, cursor = [], None
    while True:
        page = ada.invoices(limit=1, cursor=cursor)[2]
        paged += [i["id"] for i in page["invoices"]]
        if (cursor := page["next_cursor"]) is None:
            break

    assert paged == whole
    assert sorted(whole) == sorted(mirrored_invoices("user-ada"))
    assert [i["id"] for i in ada.invoices(limit=100)[2]["invoices"]] == whole


def test_the_statement_behind_the_redirect_is_a_pdf_of_the_invoice(
    lifecycle: Lifecycle, served: SimulatorServer
) -> None:
    ada = Billing("user-ada").with_card()
    lifecycle.sim.run(
        lambda: lifecycle.sim.objects[lifecycle.sim.all("customer")[0]["id"]].update(
            name="Ada Lovelace",
            address={
                "line1": "12 St James's Square",
                "line2": None,
                "city": "London",
                "postal_code": "SW1Y 4JH",
                "state": None,
                "country": "GB",
            },
        )
    )
    assert ada.change("developer")[0] == 200
    lifecycle.deliver()
    [invoice_id] = mirrored_invoices("user-ada")
    number = mirrored_invoices("user-ada")[invoice_id]["number"]

    status, headers, _ = ada.invoice(invoice_id, pdf=True)
    location = {k.lower(): v for k, v in headers.items()}["location"]
    assert status == 302
    assert location.startswith(served.url)
    with urllib.request.urlopen(location) as answer:  # noqa: S310 - the loopback server of this test
        content_type, pdf = answer.headers["Content-Type"], answer.read()

    assert content_type == "application/pdf"
    assert pdf.startswith(b"%PDF-")
    assert number.encode() in pdf
    assert b"Ada Lovelace" in pdf
    assert b"29.00 USD" in pdf


def test_a_statement_address_that_names_no_invoice_is_not_found(served: SimulatorServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{served.url}/invoice/acct_simulator/test_{'x' * 32}/pdf")  # noqa: S310
    assert refused.value.code == 404


def test_the_hosted_invoice_page_and_the_receipt_are_served_where_their_links_lead(
    lifecycle: Lifecycle, served: SimulatorServer
) -> None:
    ada = Billing("user-ada").with_card()
    assert ada.change("developer")[0] == 200
    lifecycle.deliver()
    detail = _newest(ada)
    assert detail["hosted_invoice_url"].startswith(f"{served.url}/i/acct_simulator/test_")
    assert detail["receipt_url"].startswith(f"{served.url}/receipts/payment/")

    with urllib.request.urlopen(detail["hosted_invoice_url"]) as answer:  # noqa: S310 - this test's loopback server
        page = answer.read().decode()
    with urllib.request.urlopen(detail["receipt_url"]) as answer:  # noqa: S310
        receipt = answer.read().decode()

    assert f'<span id="number">{detail["number"]}</span>' in page
    assert "<th>Status</th><td>paid</td>" in page
    assert f"{detail['total'] / 100:,.2f} USD" in page
    assert "Download invoice (PDF)" in page
    assert f"{detail['amount_paid'] / 100:,.2f} USD" in receipt
    assert "Visa ending in 4242" in receipt


@pytest.mark.parametrize("path", [f"/i/acct_simulator/test_{'x' * 32}", f"/receipts/payment/{'y' * 64}"])
def test_a_hosted_address_that_names_nothing_is_not_found(served: SimulatorServer, path: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{served.url}{path}")  # noqa: S310
    assert refused.value.code == 404
