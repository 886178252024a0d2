"""Account deletion as an ordered list of erasure steps, one per feature that keeps data.

Each feature that stores something of an account (profile, emails, avatars, billing) exposes an
`ErasureStep`. Deletion runs them in order; every step is idempotent, so a deletion that failed
midway is simply run again. Steps that reach outside DynamoDB come first and the accounts step
(which removes the profile and leaves the tombstone) comes last, so an unfinished deletion
always leaves the account there to retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from account_billing.core.observability import logger

if TYPE_CHECKING:
    from account_billing.accounts.records import Account


class ErasureStep(Protocol):
    name: str

    def erase(self, account: Account) -> None:
        """Erase this feature's data of `account`; safe to run again."""


def erase_account(account: Account, steps: Sequence[ErasureStep]) -> None:
    for step in steps:
        step.erase(account)
        logger.info("Erasure step done", extra={"step": step.name})
