"""Accounts: creation, the profile, the User ID, visibility, the public profile and deletion."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from . import emails
from .avatars import state as avatars
from .billing.plans import plan_of
from .data import keys
from .data.accounts import ACTIVE, AccountStore, EmailClaimed
from .data.table import Table
from .erasure import ErasureStep, erase_account
from .errors import AccountNotFound, ConfirmationMismatch, PreconditionFailed, UserNotFound
from .identity import Caller
from .models.account_requests import (
    ChangeUserIdRequest,
    CreateAccountRequest,
    DeleteAccountRequest,
    ProfileFields,
    SetVisibilityRequest,
    UpdateProfileRequest,
)
from .models.account_responses import (
    AccountView,
    Avatar,
    EmailAddress,
    PlanSummary,
    Profile,
    PublicProfileView,
    UserIdChanged,
)
from .observability import logger, metrics
from .text import initials
from .user_ids import is_valid_user_id, user_id_key

PROFILE_FIELDS = tuple(ProfileFields.model_fields)


def _stored(value: Any) -> Any:
    return None if value is None else str(value) if not isinstance(value, str) else value


def _timestamp(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def avatar_view(item: Mapping[str, Any], *, public: bool = False, now: datetime | None = None) -> Avatar:
    """The avatar as stored on the profile item (see `avatars.state`), with initials for when
    there is no image. The public sees only the image in use."""
    return Avatar(
        **avatars.visible_state(item, now or datetime.now(UTC), public=public),
        initials=initials(item.get("first_name"), item.get("last_name")) or item["user_id"][0].upper(),
    )


def account_view(item: Mapping[str, Any]) -> AccountView:
    primary = item.get("primary_email")
    return AccountView(
        user_id=item["user_id"],
        profile=Profile(**{name: item.get(name) for name in PROFILE_FIELDS}),
        visibility=item["visibility"],
        avatar=avatar_view(item),
        primary_email=EmailAddress(**primary) if primary else None,
        status=item["status"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        version=item["version"],
        plan=plan_summary(item.get("plan")),
    )


def plan_summary(key: str | None) -> PlanSummary:
    plan = plan_of(key)
    return PlanSummary(key=plan.key, name=plan.name, spending_limit=plan.monthly_spending_limit)


def public_profile_view(item: Mapping[str, Any]) -> PublicProfileView:
    public = ("first_name", "last_name", "company", "job_title", "location", "bio", "country", "website")
    return PublicProfileView(
        user_id=item["user_id"],
        avatar=avatar_view(item, public=True),
        member_since=item["created_at"],
        **{name: item.get(name) for name in public},
    )


class AccountService:
    def __init__(self, store: AccountStore, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def _now(self) -> str:
        return _timestamp(self.clock())

    def _active(self, sub: str, *, consistent: bool = False) -> dict[str, Any]:
        item = self.store.get(sub, consistent=consistent)
        if item is None:
            raise AccountNotFound("The caller has no account.")
        return item

    def create(self, caller: Caller, request: CreateAccountRequest) -> AccountView:
        now = self._now()
        fields = {name: _stored(getattr(request, name)) for name in PROFILE_FIELDS}
        account = {
            **keys.profile_key(caller.sub),
            "entity": "account",
            "sub": caller.sub,
            "user_id": request.user_id,
            "user_id_key": user_id_key(request.user_id),
            **{name: value for name, value in fields.items() if value is not None},
            "visibility": request.visibility,
            "status": ACTIVE,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        address = emails.usable_token_email(caller.email) if caller.email_verified else None
        if address:
            try:
                self.store.create(
                    account | {"primary_email": {"address": address, "verified": True}, "email_count": 1},
                    emails.verified_primary_items(caller.sub, address, now),
                )
            except EmailClaimed:
                # Another account already verified this address: the account is still
                # created, without it; the caller can add another address later.
                logger.info("Sign-up email already claimed; account created without it")
                self.store.create(account)
            else:
                account["primary_email"] = {"address": address, "verified": True}
        else:
            self.store.create(account)
        metrics.add_metric(name="AccountCreated", unit="Count", value=1)
        return account_view(account)

    def get(self, caller: Caller) -> AccountView:
        return account_view(self._active(caller.sub))

    def update_profile(
        self, caller: Caller, request: UpdateProfileRequest, versions: frozenset[int] | None
    ) -> AccountView:
        present = request.model_fields_set
        if not present:
            current = self._active(caller.sub)
            if versions is not None and current["version"] not in versions:
                raise PreconditionFailed("The account changed since it was read (If-Match).")
            return account_view(current)
        item = self.store.update_fields(
            caller.sub,
            set_fields={n: _stored(getattr(request, n)) for n in present if getattr(request, n) is not None},
            remove_fields=tuple(sorted(n for n in present if getattr(request, n) is None)),
            versions=versions,
            now=self._now(),
        )
        return account_view(item)

    def change_user_id(
        self, caller: Caller, request: ChangeUserIdRequest, versions: frozenset[int] | None
    ) -> tuple[UserIdChanged, AccountView]:
        current = self._active(caller.sub, consistent=True)
        if current["status"] != ACTIVE:
            raise AccountNotFound("The account is being deleted.")
        if versions is not None and current["version"] not in versions:
            raise PreconditionFailed("The account changed since it was read (If-Match).")
        previous = current["user_id"]
        if request.user_id == previous:
            return UserIdChanged(user_id=previous, previous_user_id=previous), account_view(current)
        now = self._now()
        new_key = user_id_key(request.user_id)
        self.store.change_user_id(current, request.user_id, new_key, now)
        metrics.add_metric(name="UserIdChanged", unit="Count", value=1)
        updated = current | {
            "user_id": request.user_id,
            "user_id_key": new_key,
            "updated_at": now,
            "version": current["version"] + 1,
        }
        return UserIdChanged(user_id=request.user_id, previous_user_id=previous), account_view(updated)

    def set_visibility(
        self, caller: Caller, request: SetVisibilityRequest, versions: frozenset[int] | None
    ) -> AccountView:
        item = self.store.update_fields(
            caller.sub, set_fields={"visibility": request.visibility}, versions=versions, now=self._now()
        )
        return account_view(item)

    def public_profile(self, user_id: str) -> PublicProfileView:
        """A public account's public fields; a private, deleted or missing one is the same 404."""
        owner = self.store.owner_of_user_id(user_id_key(user_id)) if is_valid_user_id(user_id) else None
        item = self.store.get(owner) if owner else None
        if not item or item["status"] != ACTIVE or item["visibility"] != "public":
            raise UserNotFound(f"No public profile has the User ID {user_id!r}.")
        return public_profile_view(item)

    def delete(self, caller: Caller, request: DeleteAccountRequest, steps: Sequence[ErasureStep]) -> None:
        """Permanently delete the caller's account, once it confirms its User ID."""
        current = self._active(caller.sub, consistent=True)
        if user_id_key(request.confirm_user_id) != current["user_id_key"]:
            raise ConfirmationMismatch("Type the account's current User ID to confirm the deletion.")
        if current["status"] == ACTIVE:
            self.store.mark_deleting(current, self._now())
        erase_account(current, steps)
        metrics.add_metric(name="AccountDeleted", unit="Count", value=1)


class AccountErasure:
    """The last erasure step: frees the User ID, removes every remaining item of the account
    and leaves a tombstone that keeps late events from re-creating it."""

    name = "account"

    def __init__(self, table: Table, ttl: timedelta, clock: Callable[[], datetime] | None = None) -> None:
        self.table = table
        self.ttl = ttl
        self.clock = clock or (lambda: datetime.now(UTC))

    def erase(self, account: Mapping[str, Any]) -> None:
        sub = account["sub"]
        self.table.delete_if_owned(keys.handle_marker_key(account["user_id_key"]), sub)
        remaining = [
            keys.Key(PK=item["PK"], SK=item["SK"])
            for item in self.table.query_partition(keys.account_pk(sub))
            if item["SK"] not in (keys.PROFILE, keys.TOMBSTONE)
        ]
        self.table.delete_many(remaining)
        now = self.clock()
        self.table.put(
            {
                **keys.tombstone_key(sub),
                "entity": "tombstone",
                "deleted_at": _timestamp(now),
                "expires_at": int((now + self.ttl).timestamp()),
            }
        )
        self.table.delete(keys.profile_key(sub))
