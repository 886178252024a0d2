"""What callers see of their email addresses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from . import LAZY


class EmailView(BaseModel):
    model_config = LAZY

    address: str
    verified: bool
    primary: bool
    added_at: datetime
    verified_at: datetime | None = None
    verification_sent_at: datetime | None = None


class EmailList(BaseModel):
    model_config = LAZY

    emails: list[EmailView]
    limit: int
