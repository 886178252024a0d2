"""The local mailbox: the emails the functions sent through SES (v1 or v2), as moto kept them.

moto runs in this process, so its SES backend is read directly."""

from __future__ import annotations

from email import message_from_string
from email.message import Message
from typing import Any


def _addresses(destinations: Any) -> list[str]:
    if isinstance(destinations, dict):
        return [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key, [])]
    return [str(address) for address in destinations or []]


def _raw_body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html") and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return ""


def _entry(message: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": message.id, "source": message.source, "to": _addresses(message.destinations)}
    if hasattr(message, "raw_data"):
        parsed = message_from_string(message.raw_data)
        entry.update(subject=parsed.get("Subject"), body=_raw_body(parsed), raw=message.raw_data)
    elif hasattr(message, "template"):
        entry.update(template=message.template, template_data=message.template_data)
    else:
        entry.update(subject=message.subject, body=message.body)
    return entry


def sent_messages(account: str, region: str, to: str | None = None) -> list[dict[str, Any]]:
    """Every email sent so far, oldest first; only those to `to` if given."""
    from moto.ses.models import ses_backends  # noqa: PLC0415 -- moto's backends load on first use

    messages = [_entry(message) for message in ses_backends[account][region].sent_messages]
    if to is not None:
        wanted = to.lower()
        messages = [m for m in messages if any(wanted in address.lower() for address in m["to"])]
    return messages
