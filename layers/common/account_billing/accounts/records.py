"""The account as stored: the profile item (`ACCOUNT#<sub>` / `PROFILE`, DESIGN §4).

The profile item is the account's hub: besides the account's own attributes, features keep a
few of theirs on it (the primary email, the avatar, the plan, the Stripe customer and default
card), each written by that feature's store and read here as plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from account_billing.accounts.errors import AccountNotFound
from account_billing.core import keys

# The editable profile fields (`models.ProfileFields`, a test keeps both the same), stored as
# top-level attributes (absent when cleared). Named here, not read from the API model, so that
# the functions that only read accounts do not import (and build) the account routes' models.
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "job_title",
    "job_role",
    "location",
    "bio",
    "country",
    "website",
)


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DELETING = "deleting"  # deletion has begun: no more changes, gone from the public directory


@dataclass(frozen=True, slots=True)
class PrimaryEmail:
    address: str
    verified: bool

    def to_map(self) -> dict[str, Any]:
        return {"address": self.address, "verified": self.verified}


@dataclass(frozen=True, slots=True)
class Account:
    sub: str
    user_id: str
    user_id_key: str
    visibility: str
    status: AccountStatus
    created_at: str
    updated_at: str
    version: int
    profile: Mapping[str, str] = field(default_factory=dict)
    primary_email: PrimaryEmail | None = None
    # avatars: the newest decided upload and the newest one asked for (see `avatars.state`)
    avatar: Mapping[str, Any] = field(default_factory=dict)
    avatar_upload: Mapping[str, Any] | None = None
    # billing: the plan in effect, the Stripe customer and the default card
    plan: str | None = None
    stripe_customer_id: str | None = None
    default_payment_method: str | None = None
    invoices_backfilled: bool = False
    deletion_started_at: str | None = None

    @property
    def active(self) -> bool:
        return self.status == AccountStatus.ACTIVE

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Account:
        primary = item.get("primary_email")
        return cls(
            sub=item["sub"],
            user_id=item["user_id"],
            user_id_key=item["user_id_key"],
            visibility=item["visibility"],
            status=AccountStatus(item["status"]),
            created_at=item["created_at"],
            updated_at=item["updated_at"],
            version=int(item["version"]),
            profile={name: item[name] for name in PROFILE_FIELDS if item.get(name) is not None},
            primary_email=PrimaryEmail(primary["address"], bool(primary["verified"])) if primary else None,
            avatar=item.get("avatar") or {},
            avatar_upload=item.get("avatar_upload"),
            plan=item.get("plan"),
            stripe_customer_id=item.get("stripe_customer_id"),
            default_payment_method=item.get("default_payment_method"),
            invoices_backfilled=bool(item.get("invoices_backfilled")),
            deletion_started_at=item.get("deletion_started_at"),
        )

    def to_item(self) -> dict[str, Any]:
        """The item of a new account (what `AccountStore.create` writes)."""
        item: dict[str, Any] = {
            **keys.profile_key(self.sub),
            "entity": "account",
            "sub": self.sub,
            "user_id": self.user_id,
            "user_id_key": self.user_id_key,
            **self.profile,
            "visibility": self.visibility,
            "status": str(self.status),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
        }
        if self.primary_email is not None:
            item["primary_email"] = self.primary_email.to_map()
        return item


def require_active(account: Account | None) -> Account:
    """The caller's account if it is active; `AccountNotFound` otherwise."""
    if account is None or not account.active:
        raise AccountNotFound()
    return account
