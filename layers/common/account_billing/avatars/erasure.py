"""The avatars' erasure step of account deletion (see `deletion`)."""

from __future__ import annotations

from account_billing.accounts.records import Account
from account_billing.avatars.storage import AvatarStorage


class AvatarErasure:
    """Deletes every object of the account: uploads (checked or not) and published avatars.

    An upload still being validated while the account is deleted cannot come back: its
    decision requires an active account, and the validator deletes what it published when
    that fails.
    """

    name = "avatars"

    def __init__(self, storage: AvatarStorage) -> None:
        self.storage = storage

    def erase(self, account: Account) -> None:
        self.storage.erase(account.sub)
