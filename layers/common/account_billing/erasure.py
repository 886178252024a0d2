"""Account deletion as an ordered list of erasure steps, one per module that keeps data.

Each module that stores something of an account (profile, emails, avatars, billing) exposes an
`ErasureStep`. Deletion runs them in order; every step is idempotent, so a deletion that failed
midway is simply run again. Steps that reach outside DynamoDB come first and the accounts step
(which removes the profile and leaves the tombstone) comes last, so an unfinished deletion
always leaves the account there to retry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .observability import logger


class ErasureStep(Protocol):
    name: str

    def erase(self, account: Mapping[str, Any]) -> None:
        """Erase this module's data of `account` (the profile item); safe to run again."""


def erase_account(account: Mapping[str, Any], steps: Sequence[ErasureStep]) -> None:
    for step in steps:
        step.erase(account)
        logger.info("Erasure step done", extra={"step": step.name})
