"""The notices, in the user's words, composed as plain data (no I/O here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from account_billing.activity.records import ActivityKind
from account_billing.emails.messages import Message

NOT_YOU = "If this was not you, sign in, change your password and contact support right away.\n"


def _user_id(d: Mapping[str, str]) -> tuple[str, str]:
    return (
        "Your User ID changed",
        f"The User ID of your account changed from {d.get('previous_user_id')} to {d.get('user_id')}.\n"
        "Your old User ID is free for anyone to take, and links to your old profile no longer work.\n\n",
    )


def _primary(d: Mapping[str, str]) -> tuple[str, str]:
    return (
        "Your primary email address changed",
        f"The primary email address of your account is now {d.get('address')}"
        + (f" instead of {d['previous_address']}" if d.get("previous_address") else "")
        + ".\nWe send security notices and receipts there from now on.\n\n",
    )


def _email_added(d: Mapping[str, str]) -> tuple[str, str]:
    return (
        "An email address was added to your account",
        f"{d.get('address')} was added to your account. It counts once it is verified.\n\n",
    )


def _card(d: Mapping[str, str]) -> str:
    return f"{(d.get('brand') or 'card').title()} ending in {d.get('last4') or '????'}"


def _card_added(d: Mapping[str, str]) -> tuple[str, str]:
    return ("A card was added to your account", f"{_card(d)} was added to your account.\n\n")


def _card_removed(d: Mapping[str, str]) -> tuple[str, str]:
    return ("A card was removed from your account", f"{_card(d)} was removed from your account.\n\n")


def _deletion(d: Mapping[str, str]) -> tuple[str, str]:
    return (
        "Your account is being deleted",
        "You asked to delete your account. Its profile, addresses, cards, billing history and "
        "activity are being erased; this cannot be undone.\n\n",
    )


COMPOSERS: dict[ActivityKind, Callable[[Mapping[str, str]], tuple[str, str]]] = {
    ActivityKind.USER_ID_CHANGED: _user_id,
    ActivityKind.PRIMARY_EMAIL_CHANGED: _primary,
    ActivityKind.EMAIL_ADDED: _email_added,
    ActivityKind.CARD_ADDED: _card_added,
    ActivityKind.CARD_REMOVED: _card_removed,
    ActivityKind.DELETION_STARTED: _deletion,
}
NOTICE_KINDS = frozenset(COMPOSERS)


def notice(kind: ActivityKind, details: Mapping[str, str], to: str, at: str) -> Message:
    subject, text = COMPOSERS[kind](details)
    return Message(to=to, subject=subject, text=f"{text}When: {at} (UTC)\n\n{NOT_YOU}")
