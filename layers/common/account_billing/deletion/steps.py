"""The erasure steps that deleting an account runs, in order (see `protocol`).

A feature that stores account data elsewhere (S3 objects, a Stripe customer) adds its step here,
before the accounts step, which must stay last.
"""

from __future__ import annotations

from datetime import timedelta

from account_billing.accounts.erasure import AccountErasure
from account_billing.accounts.store import AccountStore
from account_billing.avatars.erasure import AvatarErasure
from account_billing.avatars.storage import AvatarStorage, s3_client
from account_billing.billing.erasure import BillingErasure
from account_billing.billing.holds.store import HoldStore
from account_billing.core.settings import get_settings
from account_billing.core.table import Table
from account_billing.deletion.protocol import ErasureStep
from account_billing.emails.erasure import EmailErasure
from account_billing.emails.store import EmailStore
from account_billing.exports.erasure import ExportErasure
from account_billing.exports.settings import export_settings
from account_billing.exports.storage import ExportStorage


def erasure_steps(table: Table) -> list[ErasureStep]:
    return [
        EmailErasure(EmailStore(table)),
        AvatarErasure(AvatarStorage.from_settings(s3_client())),
        ExportErasure(ExportStorage(s3_client(), export_settings().bucket())),
        # Stripe is imported only when the account has holds or a customer to erase.
        BillingErasure(HoldStore(table)),
        AccountErasure(AccountStore(table), ttl=timedelta(days=get_settings().tombstone_ttl_days)),
    ]
