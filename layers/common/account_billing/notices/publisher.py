"""Publishing a notice once its change is made: an EventBridge event the notices function
receives. A failure to publish is logged and counted, never raised: the change stands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from account_billing.activity.records import ActivityEntry
from account_billing.core.events import EventPublisher
from account_billing.core.observability import logger
from account_billing.core.settings import get_settings
from account_billing.core.wiring import events_client, per_container

DETAIL_TYPE = "SecurityNotice"

# `publish(detail)`: sends one notice event (or None: this function publishes none).
type Publish = Callable[[dict[str, Any]], None]


@per_container
def notice_publisher() -> Publish | None:
    """The bus this function publishes notices to (SECURITY_NOTICE_BUS), if it has one."""
    bus = get_settings().security_notice_bus
    return EventPublisher(events_client(), bus, DETAIL_TYPE) if bus else None


def publish_notice(entry: ActivityEntry, to: Sequence[str] = ()) -> None:
    """Tell the notices function about `entry` (a change just made); `to`: the addresses to tell
    when they must be known now (the account is about to go, or its primary just changed)."""
    publish = notice_publisher()
    if publish is None:
        return
    detail = {
        "account": entry.sub,
        "entry": entry.entry_id,
        "at": entry.at,
        "kind": entry.kind.value,
        "details": dict(entry.details),
        "to": list(dict.fromkeys(to)),
    }
    try:
        publish(detail)
    except Exception:
        # The change stands; the Lambda error metrics do not see this, the log does.
        logger.exception("Security notice not published", extra={"kind": entry.kind.value})
