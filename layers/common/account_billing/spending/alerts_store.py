"""DynamoDB access for spending alerts: the thresholds (versioned), and the marks that make each
threshold's alert happen once a month."""

from __future__ import annotations

from account_billing.accounts.store import account_is_active
from account_billing.core import keys
from account_billing.core.table import ConditionFailed, Table, marshal, values
from account_billing.spending.alerts_records import (
    AlertMark,
    AlertSettings,
    mark_key,
    marks_prefix,
    month_prefix,
    settings_key,
)
from account_billing.spending.records import Spend


class AlertStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def settings(self, sub: str) -> AlertSettings:
        return AlertSettings.from_item(self.table.get(settings_key(sub), consistent=True))

    def save_settings(self, sub: str, settings: AlertSettings, expected_version: int) -> bool:
        """Store the thresholds if their version is still `expected_version` and the account is
        active; False otherwise."""
        condition = "attribute_not_exists(PK)" if expected_version == 0 else "version = :expected"
        put: dict[str, object] = {"Item": marshal(settings.to_item(sub)), "ConditionExpression": condition}
        if expected_version:
            put["ExpressionAttributeValues"] = values(expected=expected_version)
        return self.table.transact_unless([account_is_active(sub), {"Put": put}], 0, 1)

    def month(self, sub: str, month: str) -> tuple[Spend, list[AlertMark]]:
        """The month's spend and the thresholds crossed in it, in one Query."""
        items = list(
            self.table.query_pages(
                KeyConditionExpression="PK = :pk AND begins_with(SK, :month)",
                ExpressionAttributeValues=values(pk=keys.account_pk(sub), month=month_prefix(month)),
                ConsistentRead=True,
            )
        )
        spend = Spend.from_items(items)  # the header and its parts, not the marks
        marks = [AlertMark.from_item(i) for i in items if i["SK"].startswith(marks_prefix(month))]
        return spend, sorted(marks, key=lambda mark: mark.percent)

    def claim(self, sub: str, month: str, mark: AlertMark, expires_at: int) -> bool:
        """Mark the threshold crossed this month: true for exactly one caller a month."""
        try:
            self.table.put(mark.to_item(sub, month, expires_at), ConditionExpression="attribute_not_exists(PK)")
        except ConditionFailed:
            return False
        return True

    def unclaim(self, sub: str, month: str, mark: AlertMark) -> None:
        """Undo `claim` when the alert could not be published, so a retry publishes it."""
        self.table.delete(
            mark_key(sub, month, mark.percent),
            ConditionExpression="crossed_at = :at",
            ExpressionAttributeValues=values(at=mark.crossed_at),
        )
