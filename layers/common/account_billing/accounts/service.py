"""Accounts: creation, the profile, the User ID, visibility, the public profile and deletion."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from account_billing.accounts.errors import AccountNotFound, ConfirmationMismatch, UserNotFound
from account_billing.accounts.models import (
    AccountView,
    ChangeUserIdRequest,
    CreateAccountRequest,
    DeleteAccountRequest,
    PublicProfileView,
    SetVisibilityRequest,
    UpdateProfileRequest,
    UserIdChanged,
)
from account_billing.accounts.records import PROFILE_FIELDS, Account, AccountStatus, PrimaryEmail
from account_billing.accounts.store import AccountStore, EmailClaimed
from account_billing.accounts.user_ids import is_valid_user_id, user_id_key
from account_billing.accounts.views import account_view, public_profile_view
from account_billing.activity.records import ActivityKind
from account_billing.activity.service import ActivityLog
from account_billing.core.clock import Clock, timestamp, utc_now
from account_billing.core.errors import PreconditionFailed
from account_billing.core.identity import Caller
from account_billing.core.observability import logger, metrics
from account_billing.deletion.protocol import ErasureStep, erase_account
from account_billing.emails.addresses import usable_token_email
from account_billing.emails.records import Email


def _stored(value: Any) -> Any:
    return None if value is None else str(value) if not isinstance(value, str) else value


def _verified_primary(account: Account) -> tuple[str, ...]:
    primary = account.primary_email
    return (primary.address,) if primary is not None and primary.verified else ()


def _check_version(account: Account, versions: frozenset[int] | None) -> None:
    if versions is not None and account.version not in versions:
        raise PreconditionFailed("The account changed since it was read (If-Match).")


class AccountService:
    def __init__(self, store: AccountStore, clock: Clock = utc_now, activity: ActivityLog | None = None) -> None:
        self.store = store
        self.clock = clock
        self.activity = activity or ActivityLog.of(store.table, clock)

    def _now(self) -> str:
        return timestamp(self.clock())

    def create(self, caller: Caller, request: CreateAccountRequest) -> AccountView:
        now = self._now()
        fields = {name: _stored(getattr(request, name)) for name in PROFILE_FIELDS}
        account = Account(
            sub=caller.sub,
            user_id=request.user_id,
            user_id_key=user_id_key(request.user_id),
            visibility=request.visibility,
            status=AccountStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            version=1,
            profile={name: value for name, value in fields.items() if value is not None},
        )
        address = usable_token_email(caller.email) if caller.email_verified else None
        logged = [self.activity.entry(caller, ActivityKind.ACCOUNT_CREATED, user_id=request.user_id)]
        if address:
            with_email = dataclasses.replace(account, primary_email=PrimaryEmail(address, True))
            email = Email.verified_primary(caller.sub, address, now)
            try:
                self.store.create(with_email, (email.to_item(), email.marker()), also=logged)
            except EmailClaimed:
                # Another account already verified this address: the account is still
                # created, without it; the caller can add another address later.
                logger.info("Sign-up email already claimed; account created without it")
                self.store.create(account, also=logged)
            else:
                account = dataclasses.replace(account, primary_email=PrimaryEmail(address, True))
        else:
            self.store.create(account, also=logged)
        metrics.add_metric(name="AccountCreated", unit="Count", value=1)
        return account_view(account)

    def get(self, caller: Caller) -> AccountView:
        return account_view(self.store.require(caller.sub))

    def update_profile(
        self, caller: Caller, request: UpdateProfileRequest, versions: frozenset[int] | None
    ) -> AccountView:
        present = request.model_fields_set
        if not present:
            current = self.store.require(caller.sub)
            _check_version(current, versions)
            return account_view(current)
        account = self.store.update_fields(
            caller.sub,
            set_fields={n: _stored(getattr(request, n)) for n in present if getattr(request, n) is not None},
            remove_fields=tuple(sorted(n for n in present if getattr(request, n) is None)),
            versions=versions,
            now=self._now(),
        )
        self.activity.record(caller, ActivityKind.PROFILE_UPDATED, fields=",".join(sorted(present)))
        return account_view(account)

    def change_user_id(
        self, caller: Caller, request: ChangeUserIdRequest, versions: frozenset[int] | None
    ) -> tuple[UserIdChanged, AccountView]:
        current = self.store.require(caller.sub, consistent=True)
        if not current.active:
            raise AccountNotFound("The account is being deleted.")
        _check_version(current, versions)
        previous = current.user_id
        if request.user_id == previous:
            return UserIdChanged(user_id=previous, previous_user_id=previous), account_view(current)
        now = self._now()
        new_key = user_id_key(request.user_id)
        logged = self.activity.entry(
            caller, ActivityKind.USER_ID_CHANGED, user_id=request.user_id, previous_user_id=previous
        )
        self.store.change_user_id(current, request.user_id, new_key, now, also=[logged])
        self.activity.committed(logged)
        metrics.add_metric(name="UserIdChanged", unit="Count", value=1)
        updated = dataclasses.replace(
            current, user_id=request.user_id, user_id_key=new_key, updated_at=now, version=current.version + 1
        )
        return UserIdChanged(user_id=request.user_id, previous_user_id=previous), account_view(updated)

    def set_visibility(
        self, caller: Caller, request: SetVisibilityRequest, versions: frozenset[int] | None
    ) -> AccountView:
        account = self.store.update_fields(
            caller.sub, set_fields={"visibility": request.visibility}, versions=versions, now=self._now()
        )
        self.activity.record(caller, ActivityKind.VISIBILITY_CHANGED, visibility=request.visibility)
        return account_view(account)

    def public_profile(self, user_id: str) -> PublicProfileView:
        """A public account's public fields; a private, deleted or missing one is the same 404."""
        owner = self.store.owner_of_user_id(user_id_key(user_id)) if is_valid_user_id(user_id) else None
        account = self.store.get(owner) if owner else None
        if account is None or not account.active or account.visibility != "public":
            raise UserNotFound(f"No public profile has the User ID {user_id!r}.")
        return public_profile_view(account)

    def delete(self, caller: Caller, request: DeleteAccountRequest, steps: Sequence[ErasureStep]) -> None:
        """Permanently delete the caller's account, once it confirms its User ID."""
        current = self.store.require(caller.sub, consistent=True)
        if user_id_key(request.confirm_user_id) != current.user_id_key:
            raise ConfirmationMismatch("Type the account's current User ID to confirm the deletion.")
        if current.active:
            self.store.mark_deleting(current, self._now())
            # The notice goes to the address the account has now: it is erased in a moment.
            self.activity.record(caller, ActivityKind.DELETION_STARTED, notify=_verified_primary(current))
        erase_account(current, steps)
        metrics.add_metric(name="AccountDeleted", unit="Count", value=1)
