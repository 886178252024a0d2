"""The web app, as far as `make dev` needs one: local pages on the web app's own origin that
complete what the service's emails and forms start.

Locally the template's `WebAppUrl` is `http://localhost:<port>/_local/app` and its
`CorsAllowedOrigin` is `http://localhost:<port>`, while the API answers on
`http://127.0.0.1:<port>`: another origin, so a browser on these pages calls the API and the
avatar bucket cross-origin and their CORS rules decide, as in production.

- `GET /_local/app`: sign in as any user (a token from the local identity provider, kept in the
  page's localStorage), the account, an avatar upload through the presigned POST form, adding an
  address, adding a card (Stripe's test cards; one that needs 3-D Secure opens the stack's
  challenge page in a frame, as Stripe.js would, and the page follows the card until the webhook
  settles its verification).
- `GET /_local/app/settings/account/emails/verify?token=...`: where verification emails link
  to; signed in, the page POSTs the token to `/v1/account/emails/verify` and shows the result.
- `POST /_local/app/token` (form field `user`): a token for that account key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from local.apigw import HttpRequest, HttpResponse

PAGE = Path(__file__).with_name("webapp.html")  # the page and its script, as a browser reads them
PREFIX = "/_local/app"
VERIFY_PATH = f"{PREFIX}/settings/account/emails/verify"
WEB_APP_HOST = "localhost"  # not the API's 127.0.0.1: the web app is another origin
USER_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,128}")


def web_app_origin(port: int) -> str:
    return f"http://{WEB_APP_HOST}:{port}"


def web_app_parameters(port: int) -> dict[str, str]:
    """The template parameters naming the web app, for a local stack on `port`."""
    return {"WebAppUrl": f"{web_app_origin(port)}{PREFIX}", "CorsAllowedOrigin": web_app_origin(port)}


@dataclass
class WebApp:
    api_base: str
    issue_token: Callable[[str], str]

    def __call__(self, request: HttpRequest) -> HttpResponse | None:
        path = request.raw_path.rstrip("/") or "/"
        if request.method == "GET" and path in (PREFIX, VERIFY_PATH):
            return HttpResponse(200, [("Content-Type", "text/html; charset=utf-8")], self.page().encode())
        if request.method == "POST" and path == f"{PREFIX}/token":
            return self._token(request)
        return None

    def _token(self, request: HttpRequest) -> HttpResponse:
        user = (parse_qs(request.body.decode("utf-8", "replace")).get("user") or [""])[0].strip()
        if not USER_PATTERN.fullmatch(user):
            body = {"message": "user: 1 to 128 letters, digits or _.@-"}
            return HttpResponse(400, [("Content-Type", "application/json")], json.dumps(body).encode())
        body = {"user": user, "token": self.issue_token(user)}
        return HttpResponse(
            200, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], json.dumps(body).encode()
        )

    def page(self) -> str:
        # The API's address goes inside a <script>: no "</" may close it early.
        return PAGE.read_text().replace("__API__", json.dumps(self.api_base).replace("</", "<\\/"))
