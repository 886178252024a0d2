"""A real browser on the web app's origin: headless Chromium (Debian's package; `.ci/run`
installs it) drives the local web app's pages (`local.webapp`), served on
`http://localhost:<port>` while the API answers on `http://127.0.0.1:<port>`, so every call is
cross-origin and the API's CORS configuration and the avatar bucket's CORS rules (both from
template.yaml) decide whether it works, as in production. A page on any other origin is refused.
A card that needs 3-D Secure opens the stack's challenge page in a frame of the web app, as
Stripe.js would; completing or failing it there reaches the card through Stripe's webhook."""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

from local.stack import LocalStack
from local.webapp import PREFIX, WebApp, web_app_origin
from tests.e2e.conftest import Caller

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

LINK = re.compile(r"https?://[^\s\"'<>]+/settings/account/emails/verify\?token=[A-Za-z0-9_-]+")


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "Chromium is not installed: the browser test needs it (`apt-get install -y chromium`, "
            "as .ci/run does, or CHROMIUM=/path/to/chrome)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()  # fresh storage and preflight cache per test
    try:
        yield context.new_page()
    finally:
        context.close()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def sign_in(page: Page, origin: str, caller: Caller, path: str = PREFIX) -> None:
    page.goto(f"{origin}{path}")
    page.fill("#sign-in input[name=user]", caller.sub)
    page.click("#sign-in button")
    expect(page.locator("#signed-in")).to_have_text(f"Signed in as {caller.sub}.")


def test_the_web_app_origin_calls_the_api_with_a_preflighted_token(
    stack: LocalStack, page: Page, caller: Caller, account: httpx.Response, caplog: pytest.LogCaptureFixture
) -> None:
    origin = web_app_origin(stack.port)
    sign_in(page, origin, caller)

    with caplog.at_level("INFO", logger="local"):
        page.click("#load-account")
        expect(page.locator("#account-json")).to_contain_text(f'"user_id": "{caller.user_id}"')

    # Chromium asked first (the Authorization header is not CORS-safelisted) and the gateway answered
    assert any(re.search(r"OPTIONS /v1/account 204 .* cors$", record.getMessage()) for record in caplog.records)


def test_an_avatar_goes_through_the_presigned_post_form_from_the_browser(
    stack: LocalStack, page: Page, caller: Caller, account: httpx.Response, tmp_path: Any
) -> None:
    image = tmp_path / "me.png"
    image.write_bytes(png())
    sign_in(page, web_app_origin(stack.port), caller)

    page.set_input_files("#avatar-form input[name=avatar]", str(image))
    page.click("#avatar-form button")

    expect(page.locator("#avatar-result")).to_have_text("Avatar ready", timeout=60_000)
    avatar = httpx.get(f"{stack.base_url}/v1/account", headers=caller.auth).json()["avatar"]
    assert avatar["status"] == "ready"
    assert httpx.get(avatar["url"]).headers["content-type"] == "image/png"


def test_the_verification_link_of_an_email_verifies_the_address_in_the_browser(
    stack: LocalStack, page: Page, caller: Caller, account: httpx.Response
) -> None:
    address = f"{caller.sub}@example.org"
    sign_in(page, web_app_origin(stack.port), caller)
    page.fill("#email-form input[name=address]", address)
    page.click("#email-form button")
    expect(page.locator("#email-result")).to_have_text(f"Added {address}: check the mailbox")

    messages = httpx.get(f"{stack.base_url}/_local/mailbox", params={"to": address}).json()["messages"]
    link = LINK.search(messages[-1]["body"])
    assert link is not None, messages[-1]["body"]
    assert link[0].startswith(f"{web_app_origin(stack.port)}{PREFIX}/")  # the local web app, not port 3000 of nothing
    page.goto(link[0])

    expect(page.locator("#verify-result")).to_have_text(f"Verified {address}")
    emails = httpx.get(f"{stack.base_url}/v1/account/emails", headers=caller.auth).json()["emails"]
    assert {"address": address, "verified": True} in [{k: e[k] for k in ("address", "verified")} for e in emails]


def test_a_link_opened_signed_out_verifies_once_signed_in_on_its_page(
    stack: LocalStack, page: Page, caller: Caller, account: httpx.Response
) -> None:
    address = f"{caller.sub}@example.net"
    added = httpx.post(f"{stack.base_url}/v1/account/emails", json={"address": address}, headers=caller.auth)
    assert added.status_code == 201, added.text
    body = httpx.get(f"{stack.base_url}/_local/mailbox", params={"to": address}).json()["messages"][-1]["body"]
    link = LINK.search(body)
    assert link is not None, body

    page.goto(link[0])
    expect(page.locator("#signed-in")).to_have_text("Not signed in.")
    page.fill("#sign-in input[name=user]", caller.sub)
    page.click("#sign-in button")

    expect(page.locator("#verify-result")).to_have_text(f"Verified {address}")


class _Foreign(BaseHTTPRequestHandler):
    """The same web app page, served from an origin the template does not allow."""

    html = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.html)))
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def foreign_origin(stack: LocalStack) -> Iterator[str]:
    handler = type("Foreign", (_Foreign,), {"html": WebApp(stack.base_url, stack.issue_token).page().encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_origin_can_neither_call_the_api_nor_upload_to_the_bucket(
    stack: LocalStack, page: Page, caller: Caller, account: httpx.Response, foreign_origin: str
) -> None:
    page.goto(foreign_origin)
    form = httpx.post(
        f"{stack.base_url}/v1/account/avatar", json={"content_type": "image/png"}, headers=caller.auth
    ).json()
    script = """async ([api, token, form, bytes]) => {
        const attempt = async (call) => {
            try { return (await call()).status; } catch (e) { return "blocked"; }
        };
        const headers = {Authorization: "Bearer " + token};
        const account = await attempt(() => fetch(api + "/v1/account", {headers}));
        const data = new FormData();
        for (const [name, value] of Object.entries(form.fields)) data.append(name, value);
        data.append("file", new Blob([new Uint8Array(bytes)], {type: "image/png"}), "me.png");
        const upload = await attempt(() => fetch(form.url, {method: "POST", body: data}));
        return {account, upload};
    }"""

    outcome = page.evaluate(script, [stack.base_url, caller.token, form, list(png())])

    # The API refuses the preflight; S3 takes a form POST without one (as it does) but gives this
    # origin no Access-Control-Allow-Origin, so the page cannot read the answer.
    assert outcome == {"account": "blocked", "upload": "blocked"}


def _add_card_needing_3d_secure(page: Page, stack: LocalStack, caller: Caller) -> None:
    sign_in(page, web_app_origin(stack.port), caller)
    page.select_option("#card-form select[name=card]", "pm_card_threeDSecureRequired")
    page.click("#card-form button")
    expect(page.locator("#card-result")).to_have_text("Waiting for 3-D Secure...", timeout=60_000)


def _card(stack: LocalStack, caller: Caller) -> dict[str, Any]:
    cards = httpx.get(f"{stack.base_url}/v1/billing/payment-methods", headers=caller.auth).json()["payment_methods"]
    assert len(cards) == 1, cards
    card: dict[str, Any] = cards[0]
    return card


def test_completing_3d_secure_in_the_browser_verifies_the_card(
    stack: LocalStack, page: Page, caller: Caller, account: httpx.Response
) -> None:
    _add_card_needing_3d_secure(page, stack, caller)
    challenge = page.frame_locator("#three-d-secure iframe")
    expect(challenge.locator("h1")).to_have_text("3D Secure 2 Test Page")
    assert _card(stack, caller)["verification"] == "requires_action"

    challenge.locator("#complete").click()

    expect(challenge.locator("#status")).to_have_text("requires_capture")
    expect(page.locator("#card-result")).to_have_text("Card verified", timeout=60_000)  # through the webhook
    card = _card(stack, caller)
    assert (card["verification"], card["default"], card["hold"]["status"]) == ("verified", True, "held")


def test_failing_3d_secure_in_the_browser_fails_the_verification(
    stack: LocalStack, page: Page, caller: Caller, account: httpx.Response
) -> None:
    _add_card_needing_3d_secure(page, stack, caller)
    challenge = page.frame_locator("#three-d-secure iframe")

    challenge.locator("#fail").click()

    expect(challenge.locator("#status")).to_have_text("requires_payment_method")
    expect(page.locator("#card-result")).to_have_text("Card verification failed", timeout=60_000)
    card = _card(stack, caller)
    assert (card["verification"], card["default"]) == ("failed", False)
