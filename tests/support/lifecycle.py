"""Calls to the subscriptions, invoices and webhook functions, and the simulator's view."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from functions.invoices import app as invoices_app
from functions.stripe_webhook import app as webhook_app
from functions.subscriptions import app as subscriptions_app
from stripe_simulator import Simulator, WebhookEndpoint
from stripe_simulator.webhooks import sign
from tests.support import table
from tests.support.billing import Cards
from tests.support.events import call, http_event

PRICE_IDS = {
    "developer": "price_developer_monthly",
    "essential": "price_essential_monthly",
    "professional": "price_professional_monthly",
}
MONTHLY = {"developer": 2900, "essential": 9900, "professional": 29900}
WEBHOOK_SECRET_PARAMETER = "/account-billing/test/stripe-webhook-secret"

Result = tuple[int, dict[str, str], Any]


class Lifecycle:
    """Stripe's side: the simulator, and its webhook deliveries to the webhook function."""

    def __init__(self, sim: Simulator, endpoint: WebhookEndpoint) -> None:
        self.sim = sim
        self.endpoint = endpoint
        self.answers: list[tuple[str, int, Any]] = []

    def receive(self, body: bytes, headers: dict[str, str]) -> int:
        status, _, answer = post_event(body.decode(), headers["Stripe-Signature"])
        self.answers.append((json.loads(body)["type"], status, answer))
        return status

    def deliver(self) -> int:
        """Deliver everything queued (and what those deliveries made Stripe emit)."""
        total = 0
        while self.sim.webhooks.pending:
            delivered = self.sim.webhooks.deliver_pending()
            total += delivered
            if not delivered:
                break
        return total

    def signed(self, event: dict[str, Any], timestamp: int | None = None, secret: str | None = None) -> Result:
        payload = json.dumps(event)
        return post_event(payload, sign(payload, secret or self.endpoint.secret, timestamp))

    def advance(self, days: float) -> None:
        self.sim.advance(timedelta(days=days))
        self.sim.tick()

    def subscription(self, sub: str) -> dict[str, Any]:
        """The account's subscription at Stripe that has not ended (a test fails if it has none)."""
        [subscription] = [
            s for s in self.sim.all("subscription") if s["metadata"].get("account") == sub and s["status"] != "canceled"
        ]
        return subscription


def post_event(payload: str, signature: str | None) -> Result:
    headers = {"stripe-signature": signature}
    return call(
        webhook_app.lambda_handler,
        http_event("stripe_webhook/stripe_event", sub=None, raw_body=payload, headers=headers),
    )


class Billing(Cards):
    """One account: its cards (the payment_methods function), plans and invoices."""

    def _sub(self, sample: str, **kwargs: Any) -> Result:
        return call(subscriptions_app.lambda_handler, http_event(f"subscriptions/{sample}", sub=self.sub, **kwargs))

    def plans(self) -> Result:
        return call(subscriptions_app.lambda_handler, http_event("subscriptions/list_plans", sub=None))

    def subscription(self) -> Result:
        return self._sub("get_subscription")

    def change(self, plan: Any, key: str | None = "") -> Result:
        headers = {"idempotency-key": (key or str(uuid.uuid4())) if key is not None else None}
        return self._sub("change_plan", body={"plan": plan}, headers=headers)

    def undo(self) -> Result:
        return self._sub("undo_scheduled_change")

    def preview(self, plan: str) -> Result:
        event = http_event("subscriptions/preview_plan_change", sub=self.sub)
        event["rawQueryString"] = f"plan={plan}"
        event["queryStringParameters"] = {"plan": plan}
        return call(subscriptions_app.lambda_handler, event)

    def invoices(self, limit: int | None = None, cursor: str | None = None) -> Result:
        event = http_event("invoices/list_invoices", sub=self.sub)
        query = {k: str(v) for k, v in (("limit", limit), ("cursor", cursor)) if v is not None}
        event["queryStringParameters"] = query or None
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
        return call(invoices_app.lambda_handler, event)

    def invoice(self, invoice_id: str, pdf: bool = False) -> Result:
        sample = "invoices/get_invoice_pdf" if pdf else "invoices/get_invoice"
        return call(
            invoices_app.lambda_handler,
            http_event(sample, sub=self.sub, path_parameters={"invoice_id": invoice_id}),
        )

    def with_card(self, card: str = "pm_card_visa", plan: str | None = None) -> Billing:
        self.create_account(self.sub.replace("-", "_"))
        status, _, body = self.add(card, plan=plan)
        assert status == 201, body
        return self


def mirrored(sub: str) -> dict[str, Any] | None:
    """The copy of the account's subscription, if any."""
    return table.item(f"ACCOUNT#{sub}", "SUBSCRIPTION")


def mirror_of(sub: str) -> dict[str, Any]:
    """The copy of the account's subscription (a test fails here if there is none)."""
    return table.existing(f"ACCOUNT#{sub}", "SUBSCRIPTION")


def profile_plan(sub: str) -> str | None:
    item = table.item(f"ACCOUNT#{sub}", "PROFILE")
    return item.get("plan") if item else None


def mirrored_invoices(sub: str) -> dict[str, dict[str, Any]]:
    return {
        i["invoice_id"]: i for i in table.all_items() if i["PK"] == f"ACCOUNT#{sub}" and i["SK"].startswith("INVOICE#")
    }
