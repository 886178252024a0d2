"""What callers see of their activity log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from account_billing.activity.records import ActivityEntry, ActivityKind
from account_billing.core.clock import parse_timestamp
from account_billing.core.models import LAZY, with_examples
from account_billing.core.origin import Actor


class ActivityView(BaseModel):
    model_config = LAZY

    id: str
    at: datetime = Field(description="When the change was made")
    kind: ActivityKind
    actor: Actor = Field(description="Who made it: the user, Stripe, a schedule or the service itself")
    details: dict[str, str] = Field(
        description="What changed, e.g. user_id and previous_user_id; of a card only its brand and last4"
    )
    source_ip: str | None = Field(default=None, description="For the user's own actions: the request's source IP")
    user_agent: str | None = Field(default=None, description="For the user's own actions: the request's user agent")


class ActivityPage(BaseModel):
    model_config = with_examples(
        {
            "entries": [
                {
                    "id": "01JDZ3Q8W6T1M2N3P4R5S6T7V8",
                    "at": "2026-12-01T09:30:00Z",
                    "kind": "user_id.changed",
                    "actor": "user",
                    "details": {"user_id": "ada", "previous_user_id": "ada_l"},
                    "source_ip": "203.0.113.7",
                    "user_agent": "Mozilla/5.0",
                }
            ],
            "next_cursor": None,
        }
    )

    entries: list[ActivityView] = Field(description="Newest first")
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the next page; absent at the end. With a `kind` filter a page may "
        "hold fewer entries than `limit`: continue while a cursor comes back",
    )


def activity_view(entry: ActivityEntry) -> ActivityView:
    return ActivityView(
        id=entry.entry_id,
        at=parse_timestamp(entry.at),
        kind=entry.kind,
        actor=entry.actor,
        details=dict(entry.details),
        source_ip=entry.source_ip,
        user_agent=entry.user_agent,
    )
