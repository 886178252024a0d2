"""3-D Secure through the local stack: a card that needs it answers 202 with a client secret; the
local test page (as Stripe.js would open it) completes or fails the challenge, and the outcome
reaches the card through Stripe's signed webhook, the path production takes."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Caller, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _add_card_needing_authentication(api: httpx.Client, caller: Caller) -> dict[str, Any]:
    added = api.post(
        "/v1/billing/payment-methods",
        json={"payment_method": "pm_card_threeDSecureRequired"},
        headers={**caller.auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert added.status_code == 202, added.text
    body: dict[str, Any] = added.json()
    assert (body["next_action"], body["payment_method"]["verification"]) == ("authenticate", "requires_action")
    return body


def _press(api: httpx.Client, client_secret: str, button: str) -> httpx.Response:
    """Open the challenge page as the browser would and press one of its buttons."""
    page = api.get("/_local/3d_secure_2/hosted", params={"client_secret": client_secret})
    assert page.status_code == 200, page.text
    form = re.search(
        rf'<form method="post" action="([^"]+/{button})"><input type="hidden" name="payment_intent" value="([^"]+)"',
        page.text,
    )
    assert form is not None, page.text
    return api.post(form[1], data={"payment_intent": form[2]})


def _card(api: httpx.Client, caller: Caller) -> dict[str, Any]:
    listed = api.get("/v1/billing/payment-methods", headers=caller.auth)
    assert listed.status_code == 200, listed.text
    card: dict[str, Any] = listed.json()["payment_methods"][0]
    return card


@pytest.mark.usefixtures("account")
def test_completing_the_challenge_verifies_the_card(api: httpx.Client, caller: Caller) -> None:
    added = _add_card_needing_authentication(api, caller)

    pressed = _press(api, added["client_secret"], "complete")

    assert pressed.status_code == 200, pressed.text
    assert 'id="status">requires_capture<' in pressed.text
    verified = wait_for(lambda: (card := _card(api, caller))["verification"] == "verified" and card, timeout=60)
    assert (verified["default"], verified["hold"]["status"]) == (True, "held")


@pytest.mark.usefixtures("account")
def test_failing_the_challenge_fails_the_verification(api: httpx.Client, caller: Caller) -> None:
    added = _add_card_needing_authentication(api, caller)

    pressed = _press(api, added["client_secret"], "fail")

    assert pressed.status_code == 200, pressed.text
    failed = wait_for(lambda: (card := _card(api, caller))["verification"] == "failed" and card, timeout=60)
    assert failed["default"] is False
    again = api.post("/_local/3d_secure_2/hosted/complete", data={"payment_intent": added["payment_method"]["id"]})
    assert again.status_code == 404  # a payment method's id is not a payment's


@pytest.mark.usefixtures("account")
def test_the_page_needs_the_right_client_secret_and_a_waiting_payment(api: httpx.Client, caller: Caller) -> None:
    added = _add_card_needing_authentication(api, caller)
    intent = added["client_secret"].partition("_secret_")[0]

    forged = api.get("/_local/3d_secure_2/hosted", params={"client_secret": f"{intent}_secret_guess"})
    assert forged.status_code == 404
    waiting = api.get("/_local/3d_secure_2").json()["requires_action"]
    assert intent in [row["payment_intent"] for row in waiting]

    assert _press(api, added["client_secret"], "complete").status_code == 200
    twice = api.post("/_local/3d_secure_2/hosted/fail", json={"payment_intent": intent})
    assert twice.status_code == 409  # already authenticated: nothing left to fail
    assert api.get("/_local/3d_secure_2/hosted", params={"payment_intent": intent}).status_code == 409


@pytest.mark.usefixtures("account")
def test_stripes_next_action_leads_to_the_local_page(stack: LocalStack, api: httpx.Client, caller: Caller) -> None:
    added = _add_card_needing_authentication(api, caller)
    assert stack.simulated_stripe is not None
    intent = stack.simulated_stripe.simulator.objects[added["client_secret"].partition("_secret_")[0]]

    opened = httpx.get(intent["next_action"]["use_stripe_sdk"]["stripe_js"], timeout=30)  # what Stripe.js opens

    assert opened.status_code == 200
    assert "Complete authentication" in opened.text
    assert "Fail authentication" in opened.text


@pytest.mark.usefixtures("account")
def test_after_failing_the_card_is_verified_again_through_the_api(api: httpx.Client, caller: Caller) -> None:
    added = _add_card_needing_authentication(api, caller)
    _press(api, added["client_secret"], "fail")
    wait_for(lambda: _card(api, caller)["verification"] == "failed", timeout=60)
    card_id = added["payment_method"]["id"]

    retried = api.post(
        f"/v1/billing/payment-methods/{card_id}/verification",
        headers={**caller.auth, "Idempotency-Key": str(uuid.uuid4())},
    )

    assert retried.status_code == 202, retried.text
    assert retried.json()["client_secret"] != added["client_secret"]
    assert _press(api, retried.json()["client_secret"], "complete").status_code == 200
    verified = wait_for(lambda: (card := _card(api, caller))["verification"] == "verified" and card, timeout=60)
    assert verified["hold"]["id"] == retried.json()["hold"]["id"]
    again = api.post(
        f"/v1/billing/payment-methods/{card_id}/verification",
        headers={**caller.auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert again.status_code == 409, again.text
