"""What callers send to the email routes and what they see of their addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints

from account_billing.core.models import with_examples
from account_billing.emails.addresses import MAX_ADDRESS_LENGTH


def _checked_address(value: str) -> str:
    """A syntactically valid address (RFC 5322/5321 as email-validator reads them), kept as typed."""
    # Imported on the first address checked: email-validator compiles its grammar at import
    # (about 40 ms), which routes that take no address (list, verify, remove) never need.
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return value


EmailAddressField = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=3, max_length=MAX_ADDRESS_LENGTH),
    AfterValidator(_checked_address),
    Field(examples=["ada@example.com"]),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class AddEmailRequest(_Request):
    model_config = with_examples({"address": "ada@example.com"})

    address: EmailAddressField


class ResendVerificationRequest(_Request):
    model_config = with_examples({"address": "ada@example.com"})

    address: EmailAddressField


class VerifyEmailRequest(_Request):
    model_config = with_examples({"token": "Jx3kq9V0aQ2mTn8rLw5bYc1dEf7gHi4s"})

    token: Annotated[str, Strict(), StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class SetPrimaryEmailRequest(_Request):
    model_config = with_examples({"address": "ada@example.com"})

    address: EmailAddressField


class EmailView(BaseModel):
    model_config = with_examples(
        {
            "address": "ada@example.com",
            "verified": False,
            "primary": False,
            "added_at": "2026-11-20T14:05:00Z",
            "verified_at": None,
            "verification_sent_at": "2026-11-20T14:05:00Z",
        }
    )

    address: str
    verified: bool
    primary: bool
    added_at: datetime
    verified_at: datetime | None = None
    verification_sent_at: datetime | None = None


class EmailList(BaseModel):
    model_config = with_examples(
        {
            "emails": [
                {
                    "address": "ada@example.com",
                    "verified": True,
                    "primary": True,
                    "added_at": "2026-11-02T09:30:00Z",
                    "verified_at": "2026-11-02T09:30:00Z",
                    "verification_sent_at": "2026-11-02T09:30:00Z",
                },
                {
                    "address": "ada@example.com",
                    "verified": False,
                    "primary": False,
                    "added_at": "2026-11-20T14:05:00Z",
                    "verified_at": None,
                    "verification_sent_at": "2026-11-20T14:05:00Z",
                },
            ],
            "limit": 10,
        }
    )

    emails: list[EmailView]
    limit: int
