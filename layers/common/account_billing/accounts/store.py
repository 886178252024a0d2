"""DynamoDB access for accounts, the markers that make User IDs unique, and the tombstones of
deleted accounts.

Uniqueness is enforced by conditional writes of marker items inside transactions, never by
reading first (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from account_billing.accounts.errors import AccountAlreadyExists, AccountNotFound, UserIdTaken
from account_billing.accounts.records import Account, AccountStatus, require_active
from account_billing.core import keys
from account_billing.core.errors import ConcurrentUpdate, PreconditionFailed
from account_billing.core.table import (
    ConditionFailed,
    Table,
    TransactionCancelled,
    TransactItem,
    marshal,
    owned_by,
    values,
)


def handle_marker_key(user_id_key: str) -> keys.Key:
    """The marker that makes a User ID unique; `user_id_key` is already lowercased."""
    return {"PK": f"HANDLE#{user_id_key}", "SK": "HANDLE"}


def account_is_active(sub: str) -> TransactItem:
    """A transaction action that holds only while `sub` has an active account (not deleted,
    not being deleted): what belongs to an account is written only beside this check."""
    return {
        "ConditionCheck": {
            "Key": marshal(keys.profile_key(sub)),
            "ConditionExpression": "#status = :active",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(active=AccountStatus.ACTIVE),
        }
    }


class EmailClaimed(Exception):
    """The address given at sign-up already belongs to another account."""


def _version_condition(versions: frozenset[int] | None) -> tuple[str, dict[str, Any]]:
    """A condition that the item is an active account, at one of `versions` if given."""
    expression = "attribute_exists(PK) AND #status = :active"
    names_values: dict[str, Any] = values(active=AccountStatus.ACTIVE)
    if versions is not None:
        placeholders = [f":v{i}" for i in range(len(versions))]
        expression += f" AND version IN ({', '.join(placeholders)})"
        names_values |= values(**{f"v{i}": v for i, v in enumerate(sorted(versions))})
    return expression, names_values


def _failed_update(old: Mapping[str, Any] | None, versions: frozenset[int] | None) -> Exception:
    """Why a conditional update of an account did not apply."""
    if old is None or old.get("status") != AccountStatus.ACTIVE:
        return AccountNotFound()
    if versions is not None and old.get("version") not in versions:
        return PreconditionFailed("The account changed since it was read (If-Match).")
    return ConcurrentUpdate()


class AccountStore:
    """Accounts, their User ID markers and the tombstones of deleted accounts."""

    def __init__(self, table: Table) -> None:
        self.table = table

    # ------------------------------------------------------------------ reading
    def get(self, sub: str, *, consistent: bool = False) -> Account | None:
        item = self.table.get(keys.profile_key(sub), consistent=consistent)
        return Account.from_item(item) if item else None

    def get_many(self, subs: Sequence[str]) -> dict[str, Account]:
        """The accounts of `subs` that exist, by key: BatchGetItem, 100 keys a request."""
        unique = list(dict.fromkeys(subs))
        found: dict[str, Account] = {}
        for start in range(0, len(unique), 100):
            for item in self.table.batch_get([keys.profile_key(sub) for sub in unique[start : start + 100]]):
                account = Account.from_item(item)
                found[account.sub] = account
        return found

    def require(self, sub: str, *, consistent: bool = False) -> Account:
        """The caller's account, active or being deleted; `AccountNotFound` if it has none."""
        account = self.get(sub, consistent=consistent)
        if account is None:
            raise AccountNotFound()
        return account

    def require_active(self, sub: str, *, consistent: bool = False) -> Account:
        """The caller's active account; `AccountNotFound` if it has none (or it is being deleted)."""
        return require_active(self.get(sub, consistent=consistent))

    def owner_of_user_id(self, user_id_key: str) -> str | None:
        marker = self.table.get(handle_marker_key(user_id_key))
        return str(marker["owner"]) if marker else None

    # ------------------------------------------------------------------ writing
    def create(
        self, account: Account, email_items: Sequence[Mapping[str, Any]] = (), *, also: Sequence[TransactItem] = ()
    ) -> None:
        """Create the account, claim its User ID and (optionally) its email in one transaction.

        `email_items` is the account's email item followed by its marker; `also`, actions written
        with them (unconditional: the activity log's entry). Raises
        `AccountAlreadyExists`, `UserIdTaken` or `EmailClaimed`; nothing is written then.
        """
        marker = {**handle_marker_key(account.user_id_key), "owner": account.sub}
        actions: list[TransactItem] = [
            {"Put": {"Item": marshal(account.to_item()), "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"Item": marshal(marker), "ConditionExpression": "attribute_not_exists(PK)"}},
            # A new account under a deleted account's key lifts its tombstone.
            {"Delete": {"Key": marshal(keys.tombstone_key(account.sub))}},
        ]
        for item in email_items:
            actions.append({"Put": {"Item": marshal(item), "ConditionExpression": "attribute_not_exists(PK)"}})
        actions += also
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            if exc.failed(0):
                raise AccountAlreadyExists("The caller already has an account.") from exc
            if exc.failed(1):
                raise UserIdTaken(f"The User ID {account.user_id!r} is taken.") from exc
            if any(exc.failed(i) for i in range(3, len(actions))):
                raise EmailClaimed() from exc
            raise ConcurrentUpdate() from exc

    def update_fields(
        self,
        sub: str,
        *,
        set_fields: Mapping[str, Any],
        remove_fields: tuple[str, ...] = (),
        versions: frozenset[int] | None,
        now: str,
    ) -> Account:
        """Set and remove top-level attributes of an active account, bump its version and
        return the account as it is now. `versions` (from If-Match) must include the current one."""
        names: dict[str, str] = {"#status": "status"}
        expression_values: dict[str, Any] = values(now=now, one=1)
        assignments = ["updated_at = :now", "version = version + :one"]
        for i, (name, value) in enumerate(set_fields.items()):
            names[f"#s{i}"] = name
            assignments.append(f"#s{i} = :s{i}")
            expression_values |= values(**{f"s{i}": value})
        removals = []
        for i, name in enumerate(remove_fields):
            names[f"#r{i}"] = name
            removals.append(f"#r{i}")
        update = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        condition, condition_values = _version_condition(versions)
        try:
            return Account.from_item(
                self.table.update(
                    keys.profile_key(sub),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=expression_values | condition_values,
                )
            )
        except ConditionFailed as exc:
            raise _failed_update(exc.item, versions) from exc

    def change_user_id(
        self, current: Account, user_id: str, user_id_key: str, now: str, *, also: Sequence[TransactItem] = ()
    ) -> None:
        """Move the account at `current` (as just read) to a new User ID in one transaction:
        claim the new marker, release the old one (only if still ours), update the profile
        (only if unchanged since it was read); `also`, unconditional actions written with them."""
        update_profile: TransactItem = {
            "Update": {
                "Key": marshal(keys.profile_key(current.sub)),
                "UpdateExpression": "SET user_id = :uid, user_id_key = :key, updated_at = :now, "
                "version = version + :one",
                "ConditionExpression": "#status = :active AND version = :version",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(
                    uid=user_id,
                    key=user_id_key,
                    now=now,
                    one=1,
                    active=AccountStatus.ACTIVE,
                    version=current.version,
                ),
            }
        }
        if user_id_key == current.user_id_key:
            actions = [update_profile]  # only the case changes: the marker stays
        else:
            new_marker = {**handle_marker_key(user_id_key), "owner": current.sub}
            actions = [
                update_profile,
                {"Put": {"Item": marshal(new_marker), "ConditionExpression": "attribute_not_exists(PK)"}},
                {"Delete": {"Key": marshal(handle_marker_key(current.user_id_key)), **owned_by(current.sub)}},
            ]
        actions += also
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            if exc.failed(1):
                raise UserIdTaken(f"The User ID {user_id!r} is taken.") from exc
            raise ConcurrentUpdate() from exc

    def mark_deleting(self, current: Account, now: str) -> None:
        """Start deleting the account at `current`: it leaves the public directory at once and
        accepts no more changes; a failed deletion can be retried from here."""
        try:
            self.table.update(
                keys.profile_key(current.sub),
                UpdateExpression="SET #status = :deleting, deletion_started_at = :now",
                ConditionExpression="version = :version",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values(deleting=AccountStatus.DELETING, now=now, version=current.version),
            )
        except ConditionFailed as exc:
            raise ConcurrentUpdate() from exc

    def erase(self, account: Account, *, deleted_at: str, tombstone_expires_at: int) -> None:
        """The last step of a deletion: free the User ID, remove every remaining item of the
        account, leave a tombstone (late events must not re-create it), remove the profile."""
        self.table.delete_if_owned(handle_marker_key(account.user_id_key), account.sub)
        self.table.delete_many(
            keys.Key(PK=item["PK"], SK=item["SK"])
            for item in self.table.query_partition(keys.account_pk(account.sub))
            if item["SK"] not in (keys.PROFILE, keys.TOMBSTONE)
        )
        self.table.put(
            {
                **keys.tombstone_key(account.sub),
                "entity": "tombstone",
                "deleted_at": deleted_at,
                "expires_at": tombstone_expires_at,
            }
        )
        self.table.delete(keys.profile_key(account.sub))
