"""The emails' erasure step of account deletion (see `deletion`)."""

from __future__ import annotations

from account_billing.accounts.records import Account
from account_billing.emails.store import EmailStore


class EmailErasure:
    """Erases every address of an account and frees the markers it holds."""

    name = "emails"

    def __init__(self, store: EmailStore) -> None:
        self.store = store

    def erase(self, account: Account) -> None:
        self.store.erase(account.sub)
