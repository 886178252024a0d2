"""The erasure steps that deleting an account runs, in order (see `erasure`).

A module that stores account data elsewhere (S3 objects, a Stripe customer) adds its step here,
before the accounts step, which must stay last.
"""

from __future__ import annotations

from datetime import timedelta

from .accounts import AccountErasure
from .data.table import Table
from .emails import EmailErasure
from .erasure import ErasureStep
from .settings import get_settings


def erasure_steps(table: Table) -> list[ErasureStep]:
    return [
        EmailErasure(table),
        AccountErasure(table, ttl=timedelta(days=get_settings().tombstone_ttl_days)),
    ]
