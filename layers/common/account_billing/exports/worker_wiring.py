"""How the export worker is put together (the worker's function only: the routes' function
loads `exports.wiring`, without the sections and every feature's store)."""

from __future__ import annotations

from account_billing.accounts.store import AccountStore
from account_billing.activity.store import ActivityStore
from account_billing.avatars.storage import s3_client
from account_billing.billing.cards.store import CardStore
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.invoices.store import InvoiceStore
from account_billing.billing.subscriptions.store import SubscriptionStore
from account_billing.core.settings import get_settings, required
from account_billing.core.table import Table
from account_billing.core.wiring import sesv2_client
from account_billing.emails.mailer import SesMailer
from account_billing.emails.store import EmailStore
from account_billing.exports.sections import MAX_AVATAR_BYTES, Sources
from account_billing.exports.settings import export_settings
from account_billing.exports.statements import statement_fetcher
from account_billing.exports.store import ExportStore
from account_billing.exports.wiring import export_queue, export_storage
from account_billing.exports.worker import ExportWorker
from account_billing.spending.store import SpendStore


def read_avatar(key: str) -> bytes | None:
    """A published avatar image (None if it is gone)."""
    bucket = required(get_settings().avatar_bucket, "AVATAR_BUCKET")
    from account_billing.avatars.storage import AvatarStorage  # noqa: PLC0415

    found = AvatarStorage(s3_client(), bucket).read(key, MAX_AVATAR_BYTES)
    return found.data if found is not None and found.size <= MAX_AVATAR_BYTES else None


def fetch_statement(url: str) -> bytes:
    return statement_fetcher()(url)


def export_worker(table: Table) -> ExportWorker:
    settings = get_settings()
    sources = Sources(
        accounts=AccountStore(table),
        emails=EmailStore(table),
        cards=CardStore(table),
        holds=HoldStore(table),
        subscriptions=SubscriptionStore(table, {}),
        spend=SpendStore(table),
        invoices=InvoiceStore(table),
        activity=ActivityStore(table),
        read_avatar=read_avatar,
        fetch_statement=fetch_statement,
    )
    return ExportWorker(
        ExportStore(table),
        storage=export_storage(),
        accounts=AccountStore(table),
        sources=sources,
        queue=export_queue,
        send=SesMailer(sesv2_client, required(settings.email_from, "EMAIL_FROM"), settings.email_configuration_set),
        settings=export_settings(),
        web_app_url=settings.web_app_url,
    )
