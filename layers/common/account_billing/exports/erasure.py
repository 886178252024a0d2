"""The exports' erasure step of account deletion (see `deletion`): the account's archives, their
checkpoints and unfinished uploads. Their records live in the account's partition and go with
the accounts step. An export being built meanwhile finds the account going at its next write
and deletes what it wrote (see `worker`)."""

from __future__ import annotations

from account_billing.accounts.records import Account
from account_billing.exports.storage import ExportStorage


class ExportErasure:
    name = "exports"

    def __init__(self, storage: ExportStorage) -> None:
        self.storage = storage

    def erase(self, account: Account) -> None:
        self.storage.erase_account(account.sub)
