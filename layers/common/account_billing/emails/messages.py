"""The emails the service sends, composed as plain data (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str


def verification_message(address: str, token: str, web_app_url: str, valid_hours: int) -> Message:
    link = f"{web_app_url.rstrip('/')}/settings/account/emails/verify?{urlencode({'token': token})}"
    return Message(
        to=address,
        subject="Verify your email address",
        text=(
            f"Someone (hopefully you) added {address} to an account.\n\n"
            f"To verify it, open this link while signed in:\n{link}\n\n"
            f"The link works once and expires in {valid_hours} hours. "
            "If you did not add this address, ignore this message: nothing changes until it is verified.\n"
        ),
    )


def primary_changed_notice(previous: str, new: str) -> Message:
    return Message(
        to=previous,
        subject="Your primary email address changed",
        text=(
            f"The primary email address of your account is now {new} instead of {previous}.\n\n"
            "If you did not make this change, secure your account and contact support.\n"
        ),
    )
