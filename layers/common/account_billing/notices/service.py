"""Sending the security notice of a change (the notices function): once per change, to the
addresses the change named, else to the account's verified primary address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from account_billing.activity.records import ActivityKind
from account_billing.core.clock import Clock, epoch_seconds, utc_now
from account_billing.core.observability import logger
from account_billing.emails.messages import Message
from account_billing.notices.messages import NOTICE_KINDS, notice
from account_billing.notices.store import NoticeStore

# Longer than EventBridge retries an event (a day): a late retry still finds the marker.
CLAIM_KEPT = timedelta(days=7)

Outcome = Literal["sent", "duplicate", "nobody"]


class NoticeEvent(BaseModel):
    """The detail of a `SecurityNotice` event (see `publisher`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    account: str = Field(min_length=1, max_length=255)
    entry: str = Field(pattern=r"^[0-9a-f]{20}$")
    at: str = Field(max_length=40)
    kind: ActivityKind
    details: dict[str, str] = Field(default_factory=dict)
    to: list[str] = Field(default_factory=list, max_length=4)


class NoticeSender:
    def __init__(self, store: NoticeStore, send: Callable[[Message], None], clock: Clock = utc_now) -> None:
        self.store = store
        self.send = send
        self.clock = clock

    def handle(self, detail: dict[str, Any]) -> Outcome:
        event = NoticeEvent.model_validate(detail)
        if event.kind not in NOTICE_KINDS:
            raise ValueError(f"{event.kind} has no notice")
        recipients = event.to or [a for a in (self.store.primary_address(event.account),) if a]
        if not recipients:
            return "nobody"
        if not self.store.claim(event.entry, epoch_seconds(self.clock() + CLAIM_KEPT)):
            return "duplicate"
        try:
            for address in recipients:
                self.send(notice(event.kind, event.details, address, event.at))
        except Exception:
            self.store.forget(event.entry)  # EventBridge delivers the event again
            logger.warning("Security notice not sent; it will be retried", extra={"kind": event.kind.value})
            raise
        return "sent"
