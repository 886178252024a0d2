"""DynamoDB access for the markers that apply each Stripe event once: `STRIPE_EVENT#<id>`, claimed
while it is applied (with a lease, in case the applier dies), then done, kept with a TTL."""

from __future__ import annotations

from account_billing.core import keys
from account_billing.core.table import ConditionFailed, Table, values

EVENT_MARKER_DAYS = 30  # Stripe retries a delivery for up to three days
LEASE_SECONDS = 60
PROCESSING, DONE = "processing", "done"


def event_key(event_id: str) -> keys.Key:
    return {"PK": f"STRIPE_EVENT#{event_id}", "SK": "STRIPE_EVENT"}


class EventStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def claim(self, event_id: str, now: int) -> bool:
        """Take the event for applying; False if it is applied, or being applied by another
        delivery whose lease has not run out."""
        try:
            self.table.put(
                {
                    **event_key(event_id),
                    "entity": "stripe-event",
                    "state": PROCESSING,
                    "lease_until": now + LEASE_SECONDS,
                    "expires_at": now + EVENT_MARKER_DAYS * 86400,
                },
                ConditionExpression="attribute_not_exists(PK) OR (#state = :processing AND lease_until < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values(processing=PROCESSING, now=now),
            )
        except ConditionFailed:
            return False
        return True

    def applied(self, event_id: str) -> bool:
        """Whether the event was applied (rather than being applied right now)."""
        marker = self.table.get(event_key(event_id), consistent=True) or {}
        return marker.get("state") == DONE

    def done(self, event_id: str) -> None:
        self.table.update(
            event_key(event_id),
            UpdateExpression="SET #state = :done",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values(done=DONE),
        )

    def forget(self, event_id: str) -> None:
        """Let Stripe's next delivery of the event try again."""
        self.table.delete(event_key(event_id))
