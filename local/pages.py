"""The local stack's own pages, served beside the API (never shadowing a template route):

- `GET /openapi.json`: the merged OpenAPI document; `GET /docs`: Swagger UI, offline.
- `GET /_local/mailbox[?to=address]`: emails sent through SES.
- `GET /_local/schedules`; `POST /_local/schedules/<name>/run`: run a scheduled function now.
- `GET /_local/resources`: the physical names of the resources, and moto's endpoint.
- `GET /_local/jwks.json`: the public key the local authorizer checks tokens against.
- `GET /_local/cdn/<Distribution>/<key>`: the template's CloudFront distributions (`local.cdn`).
- `GET /_local/metrics`, `/_local/alarms`, `/_local/logs`: what CloudWatch would see (`local.operability`).
- `GET /_local/app...`: the web app's pages that emails link to (`local.webapp`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from local.apigw import HttpRequest, HttpResponse
from local.functions import InvocationError
from local.openapi import swagger_asset, swagger_page


def json_page(data: Any, status: int = 200) -> HttpResponse:
    body = json.dumps(data, indent=2, default=str).encode()
    return HttpResponse(status, [("Content-Type", "application/json")], body)


def _problem(status: int, detail: str) -> HttpResponse:
    return json_page({"message": detail}, status)


@dataclass
class LocalPages:
    openapi: Callable[[], dict[str, Any]]
    mailbox: Callable[[str | None], list[dict[str, Any]]]
    schedules: Callable[[], list[dict[str, Any]]]
    run_schedule: Callable[[str], dict[str, Any]]
    resources: Callable[[], dict[str, Any]]
    jwks: Callable[[], dict[str, Any]]
    cdn: Callable[[str, str], HttpResponse | None]
    operability: Callable[[HttpRequest], HttpResponse | None] = lambda _: None
    web_app: Callable[[HttpRequest], HttpResponse | None] = lambda _: None

    def __call__(self, request: HttpRequest) -> HttpResponse | None:  # noqa: PLR0911, PLR0912 -- a small router
        path, query = request.raw_path, parse_qs(request.raw_query)
        if (cdn := self.cdn(request.method, path)) is not None:
            return cdn
        if (page := self.operability(request)) is not None:
            return page
        if (page := self.web_app(request)) is not None:
            return page
        if request.method == "GET":
            if path == "/openapi.json" or (path == "/docs" and query.get("format") == ["json"]):
                return json_page(self.openapi())
            if path == "/docs":
                html = swagger_page(self.openapi()).encode()
                return HttpResponse(200, [("Content-Type", "text/html; charset=utf-8")], html)
            if asset := swagger_asset(path):
                body, content_type = asset
                return HttpResponse(200, [("Content-Type", content_type), ("Cache-Control", "max-age=86400")], body)
            if path == "/_local/mailbox":
                return json_page({"messages": self.mailbox(query.get("to", [None])[0])})
            if path == "/_local/schedules":
                return json_page({"schedules": self.schedules()})
            if path == "/_local/resources":
                return json_page(self.resources())
            if path == "/_local/jwks.json":
                return json_page(self.jwks())
        if request.method == "POST" and (run := re.fullmatch(r"/_local/schedules/([^/]+)/run", path)):
            try:
                return json_page(self.run_schedule(unquote(run[1])))
            except LookupError as exc:
                return _problem(404, str(exc))
            except InvocationError as exc:
                return _problem(500, f"{exc} (the traceback is in the stack's log)")
        return None
