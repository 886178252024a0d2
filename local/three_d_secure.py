"""3-D Secure, locally: the page Stripe.js would open for a card that needs authentication, like
Stripe's own test page ("Complete" or "Fail"). In simulator mode the PaymentIntent's
`next_action.use_stripe_sdk.stripe_js` points here, and the page is also reached with the
client secret the API answered (202) for the card:

    GET  /_local/3d_secure_2/hosted?client_secret=pi_..._secret_...   (or ?payment_intent=pi_...)
    POST /_local/3d_secure_2/hosted/complete   payment_intent=pi_...   (or .../fail)
    GET  /_local/3d_secure_2                   every challenge waiting for the customer

Completing or failing it changes the PaymentIntent in the simulator as the customer's bank
would; Stripe's events then reach the service through its webhook, as in production
(`payment_intent.amount_capturable_updated`, `payment_intent.payment_failed`)."""

from __future__ import annotations

import hmac
import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from local.apigw import HttpRequest, HttpResponse
from local.webpage import form_fields, html_page, json_page, problem, wants_html

PATH = "/_local/3d_secure_2"
HOSTED = f"{PATH}/hosted"
_OUTCOME = re.compile(rf"{re.escape(HOSTED)}/(complete|fail)")


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:,.2f} {currency.upper()}"


@dataclass
class ThreeDSecurePages:
    simulator: Any  # stripe_simulator.Simulator

    def __call__(self, request: HttpRequest) -> HttpResponse | None:
        path = request.raw_path
        if request.method == "GET" and path == PATH:
            return self._waiting(request)
        if request.method == "GET" and path == HOSTED:
            return self._challenge(request)
        if request.method == "POST" and (outcome := _OUTCOME.fullmatch(path)):
            return self._answer(request, succeed=outcome[1] == "complete")
        return None

    def _intent(self, fields: dict[str, str]) -> dict[str, Any] | None:
        """The PaymentIntent a challenge is for: by its client secret (as Stripe.js has it) or id."""
        secret = fields.get("client_secret", "")
        identifier = fields.get("payment_intent") or secret.partition("_secret_")[0]
        intent: dict[str, Any] | None = self.simulator.run(lambda: self.simulator.get(identifier, "payment_intent"))
        if intent is None:
            return None
        if secret and not hmac.compare_digest(secret, str(intent["client_secret"])):
            return None
        return intent

    def _waiting(self, request: HttpRequest) -> HttpResponse:
        waiting = self.simulator.run(
            lambda: [dict(pi) for pi in self.simulator.all("payment_intent") if pi["status"] == "requires_action"]
        )
        rows = [{"payment_intent": pi["id"], "amount": pi["amount"], "currency": pi["currency"]} for pi in waiting]
        if not wants_html(request):
            return json_page({"requires_action": rows})
        items = "".join(
            f'<li><a href="{HOSTED}?payment_intent={quote(row["payment_intent"])}">'
            f"{html.escape(row['payment_intent'])}</a> {html.escape(_money(row['amount'], row['currency']))}</li>"
            for row in rows
        )
        return html_page("3-D Secure challenges", f"<ul>{items}</ul>" if items else "<p>None waiting.</p>")

    def _challenge(self, request: HttpRequest) -> HttpResponse:
        fields = {name: values[0] for name, values in parse_qs(request.raw_query).items()}
        intent = self._intent(fields)
        if intent is None:
            return html_page("3-D Secure", "<p>No such payment.</p>", status=404)
        if intent["status"] != "requires_action":
            body = f"<p>This payment is <strong>{html.escape(intent['status'])}</strong>: nothing to authenticate.</p>"
            return html_page("3D Secure 2 Test Page", body, status=409)
        identifier = html.escape(intent["id"])
        buttons = "".join(
            f'<form method="post" action="{HOSTED}/{outcome}">'
            f'<input type="hidden" name="payment_intent" value="{identifier}">'
            f'<button type="submit" id="{outcome}">{label}</button></form>'
            for outcome, label in (("complete", "Complete authentication"), ("fail", "Fail authentication"))
        )
        body = (
            "<p>This is a local 3-D Secure test page, as Stripe shows in test mode: no bank is asked.</p>"
            f"<p>Payment {identifier}: <strong>{html.escape(_money(intent['amount'], intent['currency']))}</strong>"
            " held to verify a card.</p>"
            f"{buttons}"
        )
        return html_page("3D Secure 2 Test Page", body)

    def _answer(self, request: HttpRequest, *, succeed: bool) -> HttpResponse:
        try:
            intent = self._intent(form_fields(request))
        except ValueError as exc:
            return problem(400, str(exc))
        if intent is None:
            return problem(404, "No such payment.")
        try:
            updated = self.simulator.authenticate(intent["id"], succeed=succeed)
        except ValueError as exc:
            return problem(409, str(exc))
        result = {"payment_intent": updated["id"], "status": updated["status"]}
        if not wants_html(request):
            return json_page(result)
        said = "completed" if succeed else "failed"
        return html_page(
            "3D Secure 2 Test Page",
            f'<p>Authentication {said}. The payment is now <strong id="status">'
            f"{html.escape(updated['status'])}</strong>; you can close this window.</p>",
        )
