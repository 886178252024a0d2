"""Email addresses of an account: list, add with verification, verify, primary, remove.

What users expect from GitHub or GitLab: an address counts only once verified, a verified
address belongs to one account, the primary cannot be lost by accident, and an account that had a
verified primary always keeps one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from . import verification_tokens
from .data import keys
from .data.emails import EmailStore
from .data.table import ConditionFailed
from .email_messages import Message, primary_changed_notice, verification_message
from .emails import address_key
from .errors import (
    ConcurrentUpdate,
    EmailAlreadyAdded,
    EmailDeliveryFailed,
    EmailNotFound,
    EmailNotVerified,
    InvalidVerificationToken,
    PrimaryEmailRemoval,
    TooManyRequests,
    VerificationTokenExpired,
)
from .identity import Caller
from .models.email_responses import EmailList, EmailView
from .observability import logger, metrics

MAX_ADDRESSES = 10
TOKEN_VALID_HOURS = 24
UNVERIFIED_KEPT_DAYS = 3  # then DynamoDB's TTL removes the unverified address
RESEND_COOLDOWN = timedelta(seconds=60)
MAX_SENDS = 5  # per address, over its unverified life


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def email_view(item: Mapping[str, Any]) -> EmailView:
    return EmailView(
        address=item["address"],
        verified=bool(item.get("verified")),
        primary=bool(item.get("primary")),
        added_at=item["added_at"],
        verified_at=item.get("verified_at"),
        verification_sent_at=item.get("verification_sent_at"),
    )


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Primary first, then verified, then by when they were added."""
    return sorted(items, key=lambda i: (not i.get("primary"), not i.get("verified"), i["added_at"]))


class EmailService:
    def __init__(
        self,
        store: EmailStore,
        send: Callable[[Message], None],
        web_app_url: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.send = send
        self.web_app_url = web_app_url
        self.clock = clock or (lambda: datetime.now(UTC))

    def list(self, caller: Caller) -> EmailList:
        return EmailList(emails=[email_view(i) for i in _sorted(self.store.list(caller.sub))], limit=MAX_ADDRESSES)

    def _find(self, caller: Caller, address: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The caller's item for `address` and its primary item (either may be None)."""
        items = self.store.list(caller.sub)
        wanted = address_key(address)
        found = next((i for i in items if i["SK"] == f"EMAIL#{wanted}"), None)
        primary = next((i for i in items if i.get("primary")), None)
        return found, primary

    def add(self, caller: Caller, address: str) -> EmailView:
        now = self.clock()
        item = {
            **keys.email_item_key(caller.sub, address_key(address)),
            "entity": "email",
            "address": address,
            "verified": False,
            "primary": False,
            "added_at": _timestamp(now),
            "expires_at": int((now + timedelta(days=UNVERIFIED_KEPT_DAYS)).timestamp()),
        }
        self.store.add(caller.sub, item, MAX_ADDRESSES)
        metrics.add_metric(name="EmailAdded", unit="Count", value=1)
        sent_at = self._send_verification(item, first=True)
        return email_view(item | {"verification_sent_at": sent_at})

    def resend(self, caller: Caller, address: str) -> EmailView:
        item, _ = self._find(caller, address)
        if item is None:
            raise EmailNotFound("The account has no such address.")
        if item.get("verified"):
            raise EmailAlreadyAdded("The address is already verified.")
        if item.get("send_count", 0) >= MAX_SENDS:
            raise TooManyRequests(
                "Too many verification emails for this address; remove it and add it again later.",
                retry_after_seconds=int(timedelta(days=1).total_seconds()),
            )
        sent_at = self._send_verification(item, first=False)
        return email_view(item | {"verification_sent_at": sent_at})

    def _send_verification(self, item: Mapping[str, Any], *, first: bool) -> str:
        now = self.clock()
        token = verification_tokens.new_token()
        digest = verification_tokens.token_hash(token)
        key = keys.Key(PK=item["PK"], SK=item["SK"])
        try:
            self.store.record_sent(
                key,
                digest,
                int((now + timedelta(hours=TOKEN_VALID_HOURS)).timestamp()),
                _timestamp(now),
                cooldown_from=_timestamp(now - RESEND_COOLDOWN),
            )
        except ConditionFailed as exc:
            if first:
                raise ConcurrentUpdate("The address changed meanwhile; ask for the email again.") from exc
            raise TooManyRequests(
                "A verification email was sent less than a minute ago.",
                retry_after_seconds=int(RESEND_COOLDOWN.total_seconds()),
            ) from exc
        try:
            self.send(verification_message(item["address"], token, self.web_app_url, TOKEN_VALID_HOURS))
        except Exception as exc:
            self.store.forget_send(key, digest)
            logger.exception("Verification email not sent")
            raise EmailDeliveryFailed("The verification email could not be sent; ask for it again.") from exc
        return _timestamp(now)

    def verify(self, caller: Caller, token: str) -> EmailView:
        items = self.store.list(caller.sub)
        item = next(
            (i for i in items if i.get("token_hash") and verification_tokens.matches(token, i["token_hash"])), None
        )
        if item is None:
            raise InvalidVerificationToken("This verification link is not valid for your account.")
        now = self.clock()
        if item["token_expires_at"] <= now.timestamp():
            raise VerificationTokenExpired("This verification link has expired; ask for a new one.")
        make_primary = not any(i.get("primary") for i in items)
        self.store.verify(caller.sub, item, _timestamp(now), make_primary)
        metrics.add_metric(name="EmailVerified", unit="Count", value=1)
        return email_view(item | {"verified": True, "verified_at": _timestamp(now), "primary": make_primary})

    def set_primary(self, caller: Caller, address: str) -> EmailView:
        item, primary = self._find(caller, address)
        if item is None:
            raise EmailNotFound("The account has no such address.")
        if not item.get("verified"):
            raise EmailNotVerified("Verify the address before making it the primary.")
        if item.get("primary"):
            return email_view(item)
        self.store.set_primary(caller.sub, item, primary, _timestamp(self.clock()))
        if primary is not None:
            try:
                self.send(primary_changed_notice(primary["address"], item["address"]))
            except Exception:
                # The change stands; the notice is a courtesy and its failure is logged.
                logger.exception("Primary change notice not sent")
        return email_view(item | {"primary": True})

    def remove(self, caller: Caller, address: str) -> None:
        item, primary = self._find(caller, address)
        if item is None:
            raise EmailNotFound("The account has no such address.")
        if item.get("primary"):
            raise PrimaryEmailRemoval("Make another verified address the primary first.")
        self.store.remove(caller.sub, item, primary)
        metrics.add_metric(name="EmailRemoved", unit="Count", value=1)
