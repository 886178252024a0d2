"""The accounts' erasure step of account deletion (see `deletion`): it must come last."""

from __future__ import annotations

from datetime import timedelta

from account_billing.accounts.records import Account
from account_billing.accounts.store import AccountStore
from account_billing.core.clock import Clock, epoch_seconds, timestamp, utc_now


class AccountErasure:
    """Frees the User ID, removes every remaining item of the account and leaves a tombstone
    that keeps late events from re-creating it."""

    name = "account"

    def __init__(self, store: AccountStore, ttl: timedelta, clock: Clock = utc_now) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock

    def erase(self, account: Account) -> None:
        now = self.clock()
        self.store.erase(account, deleted_at=timestamp(now), tombstone_expires_at=epoch_seconds(now + self.ttl))
