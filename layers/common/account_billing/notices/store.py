"""DynamoDB access for notices: the marker that sends each notice once. It lives outside the
account's partition (a notice of a deletion is sent while the account is erased) and holds no
personal data (the entry's id only); its TTL removes it."""

from __future__ import annotations

from account_billing.core import keys
from account_billing.core.table import ConditionFailed, Table


def notice_key(entry_id: str) -> keys.Key:
    return {"PK": f"NOTICE#{entry_id}", "SK": "NOTICE"}


class NoticeStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def claim(self, entry_id: str, expires_at: int) -> bool:
        """Claim the sending of `entry_id`'s notice; False if it was claimed (sent) before."""
        try:
            self.table.put(
                {**notice_key(entry_id), "entity": "notice", "expires_at": expires_at},
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ConditionFailed:
            return False
        return True

    def forget(self, entry_id: str) -> None:
        """Undo a claim whose email could not be sent, so the retried event sends it."""
        self.table.delete(notice_key(entry_id))

    def primary_address(self, sub: str) -> str | None:
        """The account's verified primary address, if it has one."""
        item = self.table.get(keys.profile_key(sub))
        primary = (item or {}).get("primary_email") or {}
        return str(primary["address"]) if primary.get("verified") and primary.get("address") else None
