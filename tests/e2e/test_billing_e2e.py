"""Plans, subscriptions and invoices through the local stack: the plans page, a verified card,
subscribing, upgrading with proration, invoices mirrored by Stripe's (simulated, signed)
webhook deliveries, a statement and the invoice's other links (its hosted page, the payment's
receipt) leading to the stack's own pages, cancelling at the period end and undoing it."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Caller, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _put_plan(api: httpx.Client, caller: Caller, plan: str) -> httpx.Response:
    headers = {**caller.auth, "Idempotency-Key": str(uuid.uuid4())}
    return api.put("/v1/billing/subscription", json={"plan": plan}, headers=headers)


@pytest.mark.usefixtures("account")
def test_subscribe_upgrade_see_invoices_and_cancel(stack: LocalStack, api: httpx.Client, caller: Caller) -> None:
    plans = api.get("/v1/plans")  # public: no token
    assert plans.status_code == 200, plans.text
    assert [p["key"] for p in plans.json()["plans"]] == ["community", "developer", "essential", "professional"]

    card = api.post(
        "/v1/billing/payment-methods",
        json={"payment_method": "pm_card_visa"},
        headers={**caller.auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert card.status_code == 201, card.text

    subscribed = _put_plan(api, caller, "developer")
    assert subscribed.status_code == 200, subscribed.text
    assert (subscribed.json()["plan"], subscribed.json()["status"]) == ("developer", "active")
    preview = api.get("/v1/billing/subscription/preview", params={"plan": "essential"}, headers=caller.auth)
    assert preview.status_code == 200, preview.text
    upgraded = _put_plan(api, caller, "essential")
    assert upgraded.json()["plan"] == "essential", upgraded.text
    assert api.get("/v1/account", headers=caller.auth).json()["plan"]["key"] == "essential"

    def two_invoices() -> list[dict[str, Any]] | None:
        listed = api.get("/v1/billing/invoices", headers=caller.auth).json()["invoices"]
        return listed if len(listed) >= 2 and all(i["status"] == "paid" for i in listed) else None

    invoices = wait_for(two_invoices)
    assert invoices is not None
    by_reason = {i["billing_reason"]: i for i in invoices}  # (both made in the same second: either order)
    assert sorted(by_reason) == ["subscription_create", "subscription_update"]
    assert by_reason["subscription_update"]["amount_paid"] == preview.json()["amount_due_now"]
    proration = by_reason["subscription_update"]["id"]
    assert api.get(f"/v1/billing/invoices/{proration}", headers=caller.auth).json()["status"] == "paid"
    statement = api.get(f"/v1/billing/invoices/{proration}/pdf", headers=caller.auth, follow_redirects=False)
    assert statement.status_code == 302
    assert "/invoice/acct_simulator/" in statement.headers["location"]  # the local simulator serves it
    pdf = httpx.get(statement.headers["location"])
    assert (pdf.status_code, pdf.headers["content-type"], pdf.content[:5]) == (200, "application/pdf", b"%PDF-")
    assert statement.headers["location"].startswith(f"{stack.base_url}/_local/stripe/")  # the stack's own address
    # (the payment's receipt arrives with the webhook's copy of the paid invoice)
    detail = wait_for(
        lambda: (d := api.get(f"/v1/billing/invoices/{proration}", headers=caller.auth).json())["receipt_url"] and d
    )
    for link in ("hosted_invoice_url", "receipt_url"):  # every link the invoice gives leads to a page
        assert detail[link].startswith(f"{stack.base_url}/_local/stripe/"), detail
        opened = httpx.get(detail[link])
        assert (opened.status_code, opened.headers["content-type"]) == (200, "text/html; charset=utf-8"), link
        assert f"{detail['amount_paid'] / 100:,.2f} USD" in opened.text
    page = httpx.get(detail["hosted_invoice_url"]).text
    assert detail["number"] in page
    download = re.search(r'id="download" href="([^"]+)"', page)
    assert download is not None
    assert httpx.get(html.unescape(download[1])).content.startswith(b"%PDF-")  # the page's own download link

    cancelled = _put_plan(api, caller, "community")
    assert cancelled.json()["scheduled_change"]["kind"] == "cancellation", cancelled.text
    undone = api.delete("/v1/billing/subscription/scheduled-change", headers=caller.auth)
    assert (undone.status_code, undone.json()["scheduled_change"]) == (200, None)
    again = _put_plan(api, caller, "community")
    assert again.json()["plan"] == "essential"  # until the period ends
    assert api.get("/v1/billing/subscription", headers=caller.auth).json()["scheduled_change"]["plan"] == "community"


def test_the_functions_reach_the_offline_stripe_as_a_stripe_mock_with_a_test_key(stack: LocalStack) -> None:
    environment = stack.function_environment()
    assert environment["STRIPE_MODE"] == "test"
    api_base = str(environment["STRIPE_API_BASE"])
    assert api_base.startswith("http://127.0.0.1:")
    assert stack.simulated_stripe is not None
    assert httpx.get(f"{api_base}/v1/customers", timeout=5).status_code == 401  # Stripe's answer without a key
