"""Invoice statements: the PDF behind a finalized invoice's `invoice_pdf`, rendered from the
invoice as it is when downloaded (fpdf2, a dev-only dependency), and served (`hosted`) at the
address `invoice_pdf` names, with the hosted invoice page at `hosted_invoice_url`: under
`Simulator.files_base` (`SimulatorServer` sets it to its own URL unless the local stack set its
own; without either the addresses stay Stripe's, which is all tests in-process see).

Addresses are `/invoice/acct_simulator/<token>/pdf` and `/i/acct_simulator/<token>`, as Stripe's
are: the token is unguessable, so whoever holds the link can open it (Stripe's links work the same
way, with no login).
"""

from __future__ import annotations

import copy
import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Simulator

STRIPE_FILES = "https://pay.stripe.com"
STRIPE_INVOICES = "https://invoice.stripe.com"
_TOKENS = "statement-tokens"  # the simulator's private record: token → invoice id
_PATH = re.compile(r"^/invoice/acct_simulator/(test_[A-Za-z0-9_-]{16,64})/pdf$")
_HOSTED_PATH = re.compile(r"^/i/acct_simulator/(test_[A-Za-z0-9_-]{16,64})$")


def statement_urls(sim: Simulator, invoice_id: str) -> tuple[str, str]:
    """The (hosted invoice page, PDF) addresses of a finalizing invoice."""
    token = f"test_{secrets.token_urlsafe(24)}"
    sim.private(_TOKENS)[token] = invoice_id
    return (
        f"{sim.files_base or STRIPE_INVOICES}/i/acct_simulator/{token}",
        f"{sim.files_base or STRIPE_FILES}/invoice/acct_simulator/{token}/pdf?s=ap",
    )


def token_of_hosted_path(path: str) -> str | None:
    """The token of a hosted invoice page's path, if it is one."""
    match = _HOSTED_PATH.fullmatch(path)
    return match.group(1) if match else None


def invoice_at(sim: Simulator, path: str) -> dict[str, Any] | None:
    """A copy of the invoice whose statement `path` (without its query) addresses, if any."""
    match = _PATH.fullmatch(path)
    invoice_id = sim.private(_TOKENS).get(match.group(1)) if match else None
    invoice = sim.get(invoice_id, "invoice") if invoice_id else None
    return copy.deepcopy(invoice) if invoice is not None else None


def _money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) / 100:,.2f} {currency.upper()}"


def _date(epoch: int | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%B %d, %Y") if epoch else ""


def _text(value: Any) -> str:
    """Core PDF fonts cover Latin-1; anything else is shown as '?'."""
    return str(value).encode("latin-1", "replace").decode("latin-1")


def _address_lines(invoice: dict[str, Any]) -> list[str]:
    lines = [invoice.get("customer_name") or ""]
    address = invoice.get("customer_address") or {}
    lines += [address.get("line1") or "", address.get("line2") or ""]
    city = " ".join(part for part in (address.get("postal_code"), address.get("city")) if part)
    lines += [city, " ".join(part for part in (address.get("state"), address.get("country")) if part)]
    lines.append(invoice.get("customer_email") or "")
    lines += [f"{tax['type'].upper()} {tax['value']}" for tax in invoice.get("customer_tax_ids") or []]
    return [line for line in lines if line]


def render(invoice: dict[str, Any]) -> bytes:
    """The invoice's statement as a PDF."""
    from fpdf import FPDF  # noqa: PLC0415 - only a download needs it
    from fpdf.enums import XPos, YPos  # noqa: PLC0415

    currency = invoice["currency"]
    pdf = FPDF(format="A4")
    pdf.set_compression(False)  # plain text streams: the statement can be searched and checked
    pdf.set_title(_text(f"Invoice {invoice.get('number') or invoice['id']}"))
    pdf.set_creator("stripe_simulator")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    title = "Receipt" if invoice["status"] == "paid" else "Invoice"
    pdf.cell(0, 12, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    transitions = invoice.get("status_transitions") or {}
    for label, value in (
        ("Invoice number", invoice.get("number") or ""),
        ("Date of issue", _date(transitions.get("finalized_at") or invoice["created"])),
        ("Date paid", _date(transitions.get("paid_at"))),
        ("Status", invoice["status"]),
    ):
        if value:
            pdf.cell(45, 6, label)
            pdf.cell(0, 6, _text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Bill to", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    for line in _address_lines(invoice):
        pdf.cell(0, 5, _text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 10)
    widths = (95, 15, 35, 35)
    for width, heading in zip(widths, ("Description", "Qty", "Period", "Amount"), strict=True):
        pdf.cell(width, 7, heading, border="B")
    pdf.ln()
    pdf.set_font("Helvetica", size=9)
    for item in invoice["lines"]["data"]:
        period = item.get("period") or {}
        span = f"{_date(period.get('start'))[:6]} - {_date(period.get('end'))[:6]}" if period else ""
        cells = (item.get("description") or "", str(item.get("quantity") or 1), span, _money(item["amount"], currency))
        for width, value in zip(widths, cells, strict=True):
            pdf.cell(width, 6, _text(value)[:70])
        pdf.ln()
    pdf.ln(4)
    tax = sum(entry["amount"] for entry in invoice.get("total_taxes") or [])
    for label, cents in (
        ("Subtotal", invoice["subtotal"]),
        ("Tax", tax),
        ("Total", invoice["total"]),
        ("Amount paid", invoice["amount_paid"]),
        ("Amount remaining", invoice["amount_remaining"]),
    ):
        pdf.cell(sum(widths[:3]), 6, label, align="R")
        pdf.cell(widths[3], 6, _money(cents, currency), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
