"""Small pieces of the local stack's own HTML and JSON pages: a page, a form's fields (URL-encoded
or JSON), a redirect, a problem."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qsl

from local.apigw import HttpRequest, HttpResponse

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #e3e8ee;padding:.3rem .6rem;text-align:left}"
    "pre{background:#f6f9fc;padding:.6rem;overflow:auto}button{margin:.2rem}"
)


def html_page(title: str, body: str, status: int = 200) -> HttpResponse:
    """A page; `body` is HTML the caller has escaped."""
    text = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HttpResponse(status, [("Content-Type", "text/html; charset=utf-8")], text.encode())


def json_page(data: Any, status: int = 200) -> HttpResponse:
    body = json.dumps(data, indent=2, default=str).encode()
    return HttpResponse(status, [("Content-Type", "application/json")], body)


def problem(status: int, detail: str) -> HttpResponse:
    return json_page({"message": detail}, status)


def see_other(location: str) -> HttpResponse:
    return HttpResponse(303, [("Location", location)], b"")


def wants_html(request: HttpRequest) -> bool:
    """A browser (its Accept names HTML, or it posted a form) rather than a script."""
    accept = request.header("accept") or ""
    content_type = request.header("content-type") or ""
    return "text/html" in accept or content_type.startswith("application/x-www-form-urlencoded")


def form_fields(request: HttpRequest) -> dict[str, str]:
    """The fields of a form post, a JSON object's members as text, or the query's parameters."""
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    fields = dict(parse_qsl(request.raw_query))
    try:
        text = request.body.decode()
    except UnicodeDecodeError as exc:
        raise ValueError("the body is not UTF-8") from exc
    if content_type == "application/json" and text.strip():
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError("the body is not JSON") from exc
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")
        fields.update({str(k): "" if v is None else str(v) for k, v in data.items()})
    elif text:
        fields.update(parse_qsl(text))
    return fields
