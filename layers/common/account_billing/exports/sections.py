"""What an export holds, section by section, as steps an `ArchiveWriter` takes.

Each section yields steps; a step writes a bounded amount (one file, one page of records, one
statement, one image) and says where the section goes on from after it (`position`), so an
export resumed at a checkpoint asks its section for the steps after that position. Long lists
(invoices, the activity log) are read a page at a time and streamed into one JSON array: nothing
holds a whole list. Cards are written with brand, last 4 digits and expiry only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from account_billing.accounts.views import account_view
from account_billing.activity.models import activity_view
from account_billing.billing.cards.views import hold_view
from account_billing.billing.invoices.records import DRAFT, Invoice
from account_billing.billing.invoices.service import invoice_view
from account_billing.billing.subscriptions.views import subscription_view
from account_billing.emails.service import email_view
from account_billing.exports.archive import ArchiveWriter
from account_billing.exports.statements import FetchStatement, StatementUnavailable
from account_billing.spending.service import month_of, spending_view

if TYPE_CHECKING:
    from datetime import datetime

    from account_billing.accounts.records import Account
    from account_billing.accounts.store import AccountStore
    from account_billing.activity.store import ActivityStore
    from account_billing.billing.cards.store import CardStore
    from account_billing.billing.holds.store import HoldStore
    from account_billing.billing.invoices.store import InvoiceStore
    from account_billing.billing.subscriptions.store import SubscriptionStore
    from account_billing.emails.store import EmailStore
    from account_billing.spending.store import SpendStore

PAGE = 100  # records read per query (invoices, activity)
MAX_AVATAR_BYTES = 20 * 1024 * 1024 + 1024  # what the validator publishes is smaller still

README = """Your account data
=================

This archive holds what the service keeps about your account, as of the time it was made:

  profile.json        your profile: User ID, name and other fields, visibility, avatar, plan
  emails.json         your email addresses (verified or not, primary)
  avatar/             your avatar images, as published
  cards.json          your cards: brand, last 4 digits and expiry only (we never keep more)
  holds.json          the temporary pre-authorization holds placed on your cards
  subscription.json   your plan and subscription
  spending.json       this month's spend and your requests for a higher limit
  invoices.json       your invoices
  statements/         the statement (PDF) of each finalized invoice
  activity.json       your activity log: every change to the account, newest first
  manifest.json       what the archive holds, with counts, and any statement that could not be fetched

Dates are in UTC (ISO 8601); amounts are in cents of their currency.
"""


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str).encode()


def _model(model: Any) -> Any:
    return model.model_dump(mode="json")


@dataclass
class Sources:
    """Where the sections read from: the stores of the account's data, its avatar images and
    the statements' addresses."""

    accounts: AccountStore
    emails: EmailStore
    cards: CardStore
    holds: HoldStore
    subscriptions: SubscriptionStore
    spend: SpendStore
    invoices: InvoiceStore
    activity: ActivityStore
    read_avatar: Callable[[str], bytes | None]
    fetch_statement: FetchStatement


@dataclass
class Progress:
    """What the sections found so far (kept in the checkpoint; the manifest tells it)."""

    counts: dict[str, int] = field(default_factory=dict)
    missing_statements: list[dict[str, str]] = field(default_factory=list)

    def count(self, section: str, n: int = 1) -> None:
        self.counts[section] = self.counts.get(section, 0) + n

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts, "missing_statements": self.missing_statements}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        return cls(dict(data.get("counts") or {}), list(data.get("missing_statements") or []))


@dataclass(frozen=True)
class Step:
    """Write something (`write(writer)`); then the section goes on after `position`."""

    write: Callable[[ArchiveWriter], None]
    position: str


@dataclass
class Export:
    """The export being built: whose, when asked for (the archive's timestamp), and progress."""

    sub: str
    export_id: str
    requested_at: datetime
    sources: Sources
    progress: Progress


type Section = Callable[[Export, "Account", str | None], Iterator[Step]]

DONE = "done"


def _file(name: str, content: Callable[[], bytes], section: str, export: Export, count: int = 1) -> Iterator[Step]:
    def write(writer: ArchiveWriter) -> None:
        writer.add(name, content())
        export.progress.count(section, count)

    yield Step(write, DONE)


# ------------------------------------------------------------------ small sections (one file each)


def readme(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    yield from _file("README.txt", README.encode, "readme", export, 0)


def profile(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    yield from _file("profile.json", lambda: _json(_model(account_view(account))), "profile", export)


def emails(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    found = export.sources.emails.list(account.sub)
    yield from _file("emails.json", lambda: _json([_model(email_view(e)) for e in found]), "emails", export, len(found))


def cards(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    found = export.sources.cards.cards(account.sub)
    # Brand, last 4 digits and expiry: all the service keeps of a card that is the card's own.
    shown = [
        {
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "default": card.default,
            "added_at": card.added_at,
        }
        for card in found
    ]
    yield from _file("cards.json", lambda: _json(shown), "cards", export, len(found))


def holds(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    found = export.sources.holds.of_account(account.sub)
    yield from _file("holds.json", lambda: _json([_model(hold_view(h)) for h in found]), "holds", export, len(found))


def subscription(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    record = export.sources.subscriptions.get(account.sub)
    yield from _file("subscription.json", lambda: _json(_model(subscription_view(record))), "subscription", export)


def spending(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    month = month_of(export.requested_at)
    spend = export.sources.spend.spend(account.sub, month)
    requests: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page, after = export.sources.spend.limit_requests(account.sub, PAGE, after)
        requests += [
            {
                "id": r.id,
                "amount_cents": r.amount_cents,
                "reason": r.reason,
                "status": r.status.value,
                "created_at": r.created_at,
            }
            for r in page
        ]
        if after is None or not page:
            break
    content = {"this_month": _model(spending_view(account.plan, month, spend)), "limit_requests": requests}
    yield from _file("spending.json", lambda: _json(content), "spending", export)


def avatar(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    objects = sorted(str(key) for key in account.avatar.get("objects") or ())
    done = int(position) if position and position != DONE else 0
    for index, key in enumerate(objects[done:], start=done + 1):

        def write(writer: ArchiveWriter, key: str = key) -> None:
            data = export.sources.read_avatar(key)
            if data is not None:  # replaced since: the current one is in the profile
                writer.add(f"avatar/{key.rsplit('/', 1)[-1]}", data)
                export.progress.count("avatar")

        yield Step(write, str(index))


# ------------------------------------------------------------------ long lists, page by page


def _array(
    name: str,
    *,
    section: str,
    pages: Callable[[str | None], tuple[list[Any], str | None]],
    shown: Callable[[Any], Any],
    export: Export,
    position: str | None,
) -> Iterator[Step]:
    """A JSON array written a page at a time: position "" once it is opened, then the sort key
    of the last record written."""
    if position is None:

        def opening(writer: ArchiveWriter) -> None:
            writer.open(name)
            writer.write(b"[")
            export.progress.counts.setdefault(section, 0)

        yield Step(opening, "")
        position = ""
    after = position or None
    while True:
        records, last = pages(after)
        if records:
            first = after is None

            def page(writer: ArchiveWriter, records: list[Any] = records, first: bool = first) -> None:
                lines = [json.dumps(shown(r), ensure_ascii=False, default=str) for r in records]
                writer.write((b"\n" if first else b",\n") + ",\n".join(lines).encode())
                export.progress.count(section, len(records))

            after = last or _sort_key(records[-1])
            yield Step(page, after)
        if last is None or not records:
            break

    def closing(writer: ArchiveWriter) -> None:
        writer.write(b"\n]\n")
        writer.close()

    yield Step(closing, DONE)


def _sort_key(record: Any) -> str:
    return str(record.sort_key if isinstance(record, Invoice) else record.key["SK"])


def invoices(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    store = export.sources.invoices
    yield from _array(
        "invoices.json",
        section="invoices",
        pages=lambda after: store.page(account.sub, PAGE, after),
        shown=lambda invoice: {**_model(invoice_view(invoice)), "statement": _statement_name(invoice)},
        export=export,
        position=position,
    )


def activity(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    store = export.sources.activity
    yield from _array(
        "activity.json",
        section="activity",
        pages=lambda after: store.page(account.sub, PAGE, after),
        shown=lambda entry: _model(activity_view(entry)),
        export=export,
        position=position,
    )


def _statement_name(invoice: Invoice) -> str | None:
    if invoice.status == DRAFT or not invoice.invoice_pdf:
        return None
    return f"statements/{invoice.number or invoice.invoice_id}.pdf"


def statements(export: Export, account: Account, position: str | None) -> Iterator[Step]:
    """The statement of each finalized invoice, fetched from its `invoice_pdf` address; one that
    cannot be fetched is listed in the manifest instead."""
    after = position if position and position != DONE else None
    while True:
        page, last = export.sources.invoices.page(account.sub, PAGE, after)
        for invoice in page:
            name = _statement_name(invoice)
            if name is not None:

                def write(writer: ArchiveWriter, invoice: Invoice = invoice, name: str = name) -> None:
                    try:
                        data = export.sources.fetch_statement(str(invoice.invoice_pdf))
                    except StatementUnavailable as exc:
                        export.progress.missing_statements.append(
                            {"invoice": invoice.invoice_id, "number": invoice.number or "", "reason": str(exc)}
                        )
                        return
                    writer.add(name, data)
                    export.progress.count("statements")

                yield Step(write, invoice.sort_key)
        if last is None or not page:
            break
        after = last
    yield Step(lambda writer: None, DONE)


# The sections in the order the archive holds them (the manifest comes last, from the worker).
SECTIONS: list[tuple[str, Section]] = [
    ("readme", readme),
    ("profile", profile),
    ("emails", emails),
    ("avatar", avatar),
    ("cards", cards),
    ("holds", holds),
    ("subscription", subscription),
    ("spending", spending),
    ("invoices", invoices),
    ("statements", statements),
    ("activity", activity),
]


def manifest(export: Export) -> bytes:
    return _json(
        {
            "export": export.export_id,
            "as_of": export.requested_at.isoformat().replace("+00:00", "Z"),
            "counts": export.progress.counts,
            "missing_statements": export.progress.missing_statements,
        }
    )
