"""The pages Stripe hosts behind the links its objects carry, served by the simulator (its HTTP
server, or the local stack under its own address): an invoice's hosted page (`hosted_invoice_url`)
and its PDF statement (`invoice_pdf`, `statements`), and a charge's receipt (`receipt_url`).

Each address holds an unguessable token, as Stripe's do (whoever has the link sees the page, with
no login); the token is known only to the simulator (its private record), and each page shows the
object as it is when opened, as Stripe's do.

    /i/acct_simulator/<token>                 the hosted invoice page (HTML)
    /invoice/acct_simulator/<token>/pdf       the statement (PDF)
    /receipts/payment/<token>                 the receipt of a charge (HTML)
"""

from __future__ import annotations

import copy
import html
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .statements import invoice_at, render, token_of_hosted_path

if TYPE_CHECKING:
    from .core import Simulator

STRIPE_RECEIPTS = "https://pay.stripe.com"
_RECEIPT_TOKENS = "receipt-tokens"  # the simulator's private record: token → charge id
_RECEIPT_PATH = re.compile(r"^/receipts/payment/([A-Za-z0-9_-]{32,96})$")
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e8ee;padding:.3rem .4rem;"
    "text-align:left}td.amount,th.amount{text-align:right}.muted{color:#697386}"
)


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes


def receipt_url(sim: Simulator, charge_id: str) -> str:
    """Where the receipt of a successful charge is kept (an unguessable address)."""
    token = secrets.token_urlsafe(48)
    sim.private(_RECEIPT_TOKENS)[token] = charge_id
    return f"{sim.files_base or STRIPE_RECEIPTS}/receipts/payment/{token}"


def page_at(sim: Simulator, path: str) -> Page | None:
    """The page a hosted address (its path, without the query) leads to; None if the path is
    not one of Stripe's hosted pages; a 404 page if it names nothing."""
    if path.startswith("/invoice/acct_simulator/"):
        invoice = sim.run(lambda: invoice_at(sim, path))
        return Page(200, "application/pdf", render(invoice)) if invoice is not None else _not_found()
    if path.startswith("/i/acct_simulator/"):
        token = token_of_hosted_path(path)
        invoice = sim.run(lambda: invoice_at(sim, f"/invoice/acct_simulator/{token}/pdf")) if token else None
        return _html(_invoice_page(invoice)) if invoice is not None else _not_found()
    if path.startswith("/receipts/"):
        charge = sim.run(lambda: _charge_at(sim, path))
        return _html(_receipt_page(charge)) if charge is not None else _not_found()
    return None


def _charge_at(sim: Simulator, path: str) -> dict[str, Any] | None:
    match = _RECEIPT_PATH.fullmatch(path)
    charge_id = sim.private(_RECEIPT_TOKENS).get(match.group(1)) if match else None
    charge = sim.get(charge_id, "charge") if charge_id else None
    return copy.deepcopy(charge) if charge is not None else None


def _not_found() -> Page:
    return _html(("Not found", "<p>This link leads nowhere: no such invoice or receipt.</p>"), status=404)


def _html(page: tuple[str, str], status: int = 200) -> Page:
    title, body = page
    text = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}"
        '<p class="muted">Test mode: a page of the offline Stripe simulator.</p></body></html>'
    )
    return Page(status, "text/html; charset=utf-8", text.encode())


def _money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) / 100:,.2f} {currency.upper()}"


def _date(epoch: int | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%B %d, %Y") if epoch else ""


def _rows(rows: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows if v)


def _invoice_page(invoice: dict[str, Any]) -> tuple[str, str]:
    currency = invoice["currency"]
    number = invoice.get("number") or invoice["id"]
    lines = "".join(
        f"<tr><td>{html.escape(str(item.get('description') or ''))}</td><td>{item.get('quantity') or 1}</td>"
        f'<td class="amount">{html.escape(_money(item["amount"], currency))}</td></tr>'
        for item in invoice["lines"]["data"]
    )
    transitions = invoice.get("status_transitions") or {}
    summary = _rows(
        [
            ("Invoice number", str(number)),
            ("Status", str(invoice["status"])),
            ("Date of issue", _date(transitions.get("finalized_at") or invoice["created"])),
            ("Date paid", _date(transitions.get("paid_at"))),
            ("Billed to", str(invoice.get("customer_email") or invoice.get("customer_name") or "")),
            ("Total", _money(invoice["total"], currency)),
            ("Amount paid", _money(invoice["amount_paid"], currency)),
            ("Amount due", _money(invoice["amount_remaining"], currency)),
        ]
    )
    body = (
        f'<h1>Invoice <span id="number">{html.escape(str(number))}</span></h1>'
        f'<table id="summary">{summary}</table>'
        f'<h2>Items</h2><table id="lines"><tr><th>Description</th><th>Qty</th><th class="amount">Amount</th></tr>'
        f"{lines}</table>"
        f'<p><a id="download" href="{html.escape(str(invoice["invoice_pdf"]))}">Download invoice (PDF)</a></p>'
    )
    return f"Invoice {number}", body


def _receipt_page(charge: dict[str, Any]) -> tuple[str, str]:
    currency = charge["currency"]
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    paid_with = f"{str(card.get('brand') or '').title()} ending in {card['last4']}" if card.get("last4") else ""
    summary = _rows(
        [
            ("Amount paid", _money(charge["amount_captured"] or charge["amount"], currency)),
            ("Amount refunded", _money(charge["amount_refunded"], currency) if charge["amount_refunded"] else ""),
            ("Date paid", _date(charge["created"])),
            ("Payment method", paid_with),
            ("Description", str(charge.get("description") or "")),
            ("Status", str(charge["status"])),
        ]
    )
    title = "Receipt"
    body = f'<h1>{title}</h1><table id="receipt">{summary}</table>'
    return title, body
