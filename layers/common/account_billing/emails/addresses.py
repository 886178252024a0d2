"""Rules for email addresses (pure). An address compares case-insensitively and is stored as
typed; a verified address belongs to one account, through its marker item (DESIGN §4)."""

from __future__ import annotations

# RFC 5321 limits a forward path to 254 characters.
MAX_ADDRESS_LENGTH = 254


def address_key(address: str) -> str:
    """The case-insensitive key that makes an address unique."""
    return address.lower()


def usable_token_email(email: str | None) -> str | None:
    """An address from the token worth recording: present, bounded, shaped like an address."""
    if not email or len(email) > MAX_ADDRESS_LENGTH or email.count("@") != 1:
        return None
    local, domain = email.split("@")
    return email if local and "." in domain and not any(c.isspace() for c in email) else None
