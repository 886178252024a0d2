"""DynamoDB access for the avatar attributes of the profile item (see `avatars.state`).

Every write is one UpdateItem on the profile, conditioned on the account being active; a
decision is also conditioned on the upload it supersedes (compare-and-set), so concurrent or
late validator runs never overwrite a newer decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from account_billing.accounts.errors import AccountNotFound
from account_billing.accounts.records import Account, AccountStatus
from account_billing.avatars.state import AvatarStatus
from account_billing.core import keys
from account_billing.core.table import ConditionFailed, Table, values

_ACTIVE = "attribute_exists(PK) AND #status = :active"
# What removing the avatar takes off the `avatar` map.
_IN_USE_AND_REJECTION = ("url", "thumbnail_url", "objects", "rejection_reason", "rejection_code")
_REMOVED = tuple(f"avatar.#{name}" for name in _IN_USE_AND_REJECTION)


class DecisionRaced(Exception):
    """Another decision landed first, or the account is gone: `current` is the account as it
    is now (None: no account)."""

    def __init__(self, current: Account | None) -> None:
        super().__init__("the avatar changed meanwhile")
        self.current = current


def _account(item: Mapping[str, Any] | None) -> Account | None:
    return Account.from_item(item) if item else None


class AvatarStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, sub: str) -> Account | None:
        """The account, strongly consistent (the validator decides from it)."""
        return _account(self.table.get(keys.profile_key(sub), consistent=True))

    def request_upload(self, sub: str, upload_id: str, pending_until: str) -> None:
        """Record the newest upload the caller asked for; `AccountNotFound` without an active account."""
        try:
            self.table.update(
                keys.profile_key(sub),
                UpdateExpression="SET avatar_upload = :upload",
                ConditionExpression=_ACTIVE,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(
                    upload={"id": upload_id, "pending_until": pending_until}, active=AccountStatus.ACTIVE
                ),
            )
        except ConditionFailed as exc:
            raise AccountNotFound() from exc

    def decide(self, sub: str, superseded: str | None, avatar: Mapping[str, Any]) -> Account:
        """Store `avatar` (a decision on a newer upload) if the account is active and its last
        decision is still `superseded` (None: no decision yet). Returns the account as it is
        now; raises `DecisionRaced` with the account as it was otherwise."""
        if superseded is None:
            decided = "attribute_not_exists(avatar.#upload)"
            decided_values = {}
        else:
            decided = "avatar.#upload = :superseded"
            decided_values = {"superseded": superseded}
        try:
            item = self.table.update(
                keys.profile_key(sub),
                UpdateExpression="SET avatar = :avatar",
                ConditionExpression=f"{_ACTIVE} AND {decided}",
                ExpressionAttributeNames={"#status": "status", "#upload": "upload"},
                ExpressionAttributeValues=values(avatar=dict(avatar), active=AccountStatus.ACTIVE, **decided_values),
            )
        except ConditionFailed as exc:
            raise DecisionRaced(_account(exc.item)) from exc
        return Account.from_item(item)

    def remove(self, sub: str) -> Account:
        """Take the published avatar (and any rejection) off the profile; the last decision
        stays, so older uploads still cannot come back. Returns the item after the change (or
        as it is when there was no avatar); `AccountNotFound` without an active account."""
        try:
            item = self.table.update(
                keys.profile_key(sub),
                UpdateExpression=f"SET avatar.#avatar_status = :none REMOVE {', '.join(_REMOVED)}",
                ConditionExpression=f"{_ACTIVE} AND attribute_exists(avatar)",
                ExpressionAttributeNames={
                    "#status": "status",
                    "#avatar_status": "status",
                    **{f"#{name}": name for name in _IN_USE_AND_REJECTION},
                },
                ExpressionAttributeValues=values(none=AvatarStatus.NONE, active=AccountStatus.ACTIVE),
            )
        except ConditionFailed as exc:
            current = _account(exc.item)
            if current is None or not current.active:
                raise AccountNotFound() from exc
            return current
        return Account.from_item(item)
