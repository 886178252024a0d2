"""What callers see of an account (pure): the whole account, its avatar or initials, its plan, and
the public profile."""

from __future__ import annotations

from datetime import datetime

from account_billing.accounts.models import AccountView, Avatar, EmailAddress, PlanSummary, Profile, PublicProfileView
from account_billing.accounts.records import PROFILE_FIELDS, Account
from account_billing.avatars import state as avatars
from account_billing.billing.plans import plan_of
from account_billing.core.clock import utc_now
from account_billing.core.text import initials

PUBLIC_FIELDS = ("first_name", "last_name", "company", "job_title", "location", "bio", "country", "website")


def avatar_view(account: Account, *, public: bool = False, now: datetime | None = None) -> Avatar:
    """The avatar as stored on the profile (see `avatars.state`), with initials for when there
    is no image. The public sees only the image in use."""
    return Avatar(
        **avatars.visible_state(account.avatar, account.avatar_upload, now or utc_now(), public=public),
        initials=initials(account.profile.get("first_name"), account.profile.get("last_name"))
        or account.user_id[0].upper(),
    )


def plan_summary(key: str | None) -> PlanSummary:
    plan = plan_of(key)
    return PlanSummary(key=plan.key, name=plan.name, spending_limit=plan.monthly_spending_limit)


def account_view(account: Account) -> AccountView:
    primary = account.primary_email
    return AccountView(
        user_id=account.user_id,
        profile=Profile(**{name: account.profile.get(name) for name in PROFILE_FIELDS}),
        visibility=account.visibility,
        avatar=avatar_view(account),
        primary_email=EmailAddress(address=primary.address, verified=primary.verified) if primary else None,
        status=account.status.value,
        created_at=account.created_at,
        updated_at=account.updated_at,
        version=account.version,
        plan=plan_summary(account.plan),
    )


def public_profile_view(account: Account) -> PublicProfileView:
    return PublicProfileView(
        user_id=account.user_id,
        avatar=avatar_view(account, public=True),
        member_since=account.created_at,
        **{name: account.profile.get(name) for name in PUBLIC_FIELDS},
    )
