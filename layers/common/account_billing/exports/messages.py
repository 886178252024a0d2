"""The email that says an export is ready, in the user's words (no I/O here)."""

from __future__ import annotations

from account_billing.emails.messages import Message


def export_ready(to: str, web_app_url: str, export_id: str, available_until: str) -> Message:
    link = f"{web_app_url.rstrip('/')}/settings/account/exports/{export_id}"
    return Message(
        to=to,
        subject="Your data export is ready",
        text=(
            "The export of your account data you asked for is ready.\n\n"
            f"Download it while signed in, here:\n{link}\n\n"
            f"It is kept until {available_until} (UTC), then deleted. Each download link the page "
            "gives works for a few minutes; open the page again for a new one.\n\n"
            "If you did not ask for this export, sign in, change your password and contact support.\n"
        ),
    )
