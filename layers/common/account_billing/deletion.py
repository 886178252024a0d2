"""The erasure steps that deleting an account runs, in order (see `erasure`).

A module that stores account data elsewhere (S3 objects, a Stripe customer) adds its step here,
before the accounts step, which must stay last.
"""

from __future__ import annotations

from datetime import timedelta

from .accounts import AccountErasure
from .avatars.erasure import AvatarErasure
from .avatars.storage import AvatarStorage, s3_client
from .billing.erasure import BillingErasure
from .data.table import Table
from .emails import EmailErasure
from .erasure import ErasureStep
from .settings import get_settings


def erasure_steps(table: Table) -> list[ErasureStep]:
    return [
        EmailErasure(table),
        AvatarErasure(AvatarStorage.from_settings(s3_client())),
        # Stripe is imported only when the account has holds or a customer to erase.
        BillingErasure(table),
        AccountErasure(table, ttl=timedelta(days=get_settings().tombstone_ttl_days)),
    ]
