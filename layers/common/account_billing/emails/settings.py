"""The verification emails' sending budgets, parsed once from the environment the template gives
the emails function (read when first needed, never at import time).

Each budget is a windowed counter (`core.ratelimit_windows`) keyed by what it protects, never by
the address's item, so removing an address and adding it again starts nothing over: an address's
daily budget by the hash of its normalized form (whichever accounts add it: the recipient is
protected), the interval between two emails by the hash of the account and the address (two
people claiming one address each get theirs), an account's daily budget by its key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from account_billing.core.ratelimit_windows import WindowLimit
from account_billing.core.wiring import per_container
from account_billing.emails.addresses import address_key

# Unless the template says otherwise: a person verifying an address needs one email, maybe a
# resend or two; one account adding its addresses needs a handful a day.
SENDS_PER_ADDRESS_PER_DAY = 5
SEND_INTERVAL_SECONDS = 60
SENDS_PER_ACCOUNT_PER_DAY = 20


def address_subject(address: str, sub: str | None = None) -> str:
    """What an address's budgets are kept under: the SHA-256 of its normalized form (the
    address itself is never written into a counter's key), with the account's key if given."""
    named = address_key(address) if sub is None else f"{sub}\x00{address_key(address)}"
    return hashlib.sha256(named.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SendLimits:
    """The budgets one verification email is counted against."""

    per_address: WindowLimit  # a day, per address
    interval: WindowLimit  # one per interval, per account and address
    per_account: WindowLimit  # a day


class EmailSettings(BaseModel):
    """Field names are the environment variables, lowercased."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    verification_emails_per_address_per_day: int = Field(default=SENDS_PER_ADDRESS_PER_DAY, ge=1, le=1_000)
    verification_email_interval_seconds: int = Field(default=SEND_INTERVAL_SECONDS, ge=1, le=3_600)
    verification_emails_per_account_per_day: int = Field(default=SENDS_PER_ACCOUNT_PER_DAY, ge=1, le=10_000)

    @property
    def send_limits(self) -> SendLimits:
        day = timedelta(days=1)
        return SendLimits(
            per_address=WindowLimit("email-address", self.verification_emails_per_address_per_day, day),
            interval=WindowLimit(
                "email-address-interval", 1, timedelta(seconds=self.verification_email_interval_seconds)
            ),
            per_account=WindowLimit("email-account", self.verification_emails_per_account_per_day, day),
        )


@per_container
def email_settings() -> EmailSettings:
    return EmailSettings.model_validate({name.lower(): value for name, value in os.environ.items()})
