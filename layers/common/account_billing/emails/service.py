"""Email addresses of an account: list, add with verification, verify, primary, remove.

What users expect from GitHub or GitLab: an address counts only once verified, a verified
address belongs to one account, the primary cannot be lost by accident, and an account that had a
verified primary always keeps one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

from account_billing.activity.records import ActivityKind
from account_billing.activity.service import ActivityLog
from account_billing.core.clock import Clock, epoch_seconds, timestamp, utc_now
from account_billing.core.errors import ConcurrentUpdate, TooManyRequests
from account_billing.core.identity import Caller
from account_billing.core.observability import logger, metrics
from account_billing.emails import tokens as verification_tokens
from account_billing.emails.addresses import address_key
from account_billing.emails.errors import (
    EmailAlreadyAdded,
    EmailDeliveryFailed,
    EmailNotFound,
    EmailNotVerified,
    InvalidVerificationToken,
    PrimaryEmailRemoval,
    VerificationTokenExpired,
)
from account_billing.emails.messages import Message, primary_changed_notice, verification_message
from account_billing.emails.models import EmailList, EmailView
from account_billing.emails.records import Email
from account_billing.emails.store import EmailStore, SendRefused

MAX_ADDRESSES = 10
TOKEN_VALID_HOURS = 24
UNVERIFIED_KEPT_DAYS = 3  # then DynamoDB's TTL removes the unverified address
RESEND_COOLDOWN = timedelta(seconds=60)
MAX_SENDS = 5  # per address, over its unverified life


def email_view(email: Email) -> EmailView:
    return EmailView(
        address=email.address,
        verified=email.verified,
        primary=email.primary,
        added_at=email.added_at,
        verified_at=email.verified_at,
        verification_sent_at=email.verification_sent_at,
    )


def _sorted(emails: list[Email]) -> list[Email]:
    """Primary first, then verified, then by when they were added."""
    return sorted(emails, key=lambda e: (not e.primary, not e.verified, e.added_at))


class EmailService:
    def __init__(
        self,
        store: EmailStore,
        send: Callable[[Message], None],
        web_app_url: str,
        clock: Clock = utc_now,
        activity: ActivityLog | None = None,
    ) -> None:
        self.store = store
        self.send = send
        self.web_app_url = web_app_url
        self.clock = clock
        self.activity = activity or ActivityLog.of(store.table, clock)

    def list(self, caller: Caller) -> EmailList:
        return EmailList(emails=[email_view(i) for i in _sorted(self.store.list(caller.sub))], limit=MAX_ADDRESSES)

    def _find(self, caller: Caller, address: str) -> tuple[Email, Email | None]:
        """The caller's address `address` (`EmailNotFound` if it has none) and its primary."""
        emails = self.store.list(caller.sub)
        wanted = address_key(address)
        found = next((e for e in emails if e.key == wanted), None)
        if found is None:
            raise EmailNotFound("The account has no such address.")
        return found, next((e for e in emails if e.primary), None)

    def add(self, caller: Caller, address: str) -> EmailView:
        now = self.clock()
        email = Email(
            sub=caller.sub,
            address=address,
            added_at=timestamp(now),
            expires_at=epoch_seconds(now + timedelta(days=UNVERIFIED_KEPT_DAYS)),
        )
        logged = self.activity.entry(caller, ActivityKind.EMAIL_ADDED, email.key, address=address)
        self.store.add(email, MAX_ADDRESSES, also=[logged])
        self.activity.committed(logged)
        metrics.add_metric(name="EmailAdded", unit="Count", value=1)
        sent_at = self._send_verification(email, first=True)
        return email_view(dataclasses.replace(email, verification_sent_at=sent_at))

    def resend(self, caller: Caller, address: str) -> EmailView:
        email, _ = self._find(caller, address)
        if email.verified:
            raise EmailAlreadyAdded("The address is already verified.")
        if email.send_count >= MAX_SENDS:
            raise TooManyRequests(
                "Too many verification emails for this address; remove it and add it again later.",
                retry_after_seconds=int(timedelta(days=1).total_seconds()),
            )
        sent_at = self._send_verification(email, first=False)
        return email_view(dataclasses.replace(email, verification_sent_at=sent_at))

    def _send_verification(self, email: Email, *, first: bool) -> str:
        now = self.clock()
        token = verification_tokens.new_token()
        digest = verification_tokens.token_hash(token)
        try:
            self.store.record_sent(
                email,
                digest,
                epoch_seconds(now + timedelta(hours=TOKEN_VALID_HOURS)),
                timestamp(now),
                cooldown_from=timestamp(now - RESEND_COOLDOWN),
            )
        except SendRefused as exc:
            if first:
                raise ConcurrentUpdate("The address changed meanwhile; ask for the email again.") from exc
            raise TooManyRequests(
                "A verification email was sent less than a minute ago.",
                retry_after_seconds=int(RESEND_COOLDOWN.total_seconds()),
            ) from exc
        try:
            self.send(verification_message(email.address, token, self.web_app_url, TOKEN_VALID_HOURS))
        except Exception as exc:
            self.store.forget_send(email, digest)
            logger.exception("Verification email not sent")
            raise EmailDeliveryFailed("The verification email could not be sent; ask for it again.") from exc
        return timestamp(now)

    def verify(self, caller: Caller, token: str) -> EmailView:
        emails = self.store.list(caller.sub)
        email = next((e for e in emails if e.token_hash and verification_tokens.matches(token, e.token_hash)), None)
        if email is None:
            raise InvalidVerificationToken("This verification link is not valid for your account.")
        now = self.clock()
        if (email.token_expires_at or 0) <= now.timestamp():
            raise VerificationTokenExpired("This verification link has expired; ask for a new one.")
        make_primary = not any(e.primary for e in emails)
        logged = self.activity.entry(caller, ActivityKind.EMAIL_VERIFIED, email.key, address=email.address)
        self.store.verify(email, timestamp(now), make_primary, also=[logged])
        metrics.add_metric(name="EmailVerified", unit="Count", value=1)
        return email_view(dataclasses.replace(email, verified=True, verified_at=timestamp(now), primary=make_primary))

    def set_primary(self, caller: Caller, address: str) -> EmailView:
        email, primary = self._find(caller, address)
        if not email.verified:
            raise EmailNotVerified("Verify the address before making it the primary.")
        if email.primary:
            return email_view(email)
        logged = self.activity.entry(
            caller,
            ActivityKind.PRIMARY_EMAIL_CHANGED,
            email.key,
            address=email.address,
            previous_address=primary.address if primary else None,
            notify=(email.address,),  # the previous address is told below
        )
        self.store.set_primary(email, primary, timestamp(self.clock()), also=[logged])
        self.activity.committed(logged)
        if primary is not None:
            try:
                self.send(primary_changed_notice(primary.address, email.address))
            except Exception:
                # The change stands; the notice is a courtesy and its failure is logged.
                logger.exception("Primary change notice not sent")
        return email_view(dataclasses.replace(email, primary=True))

    def remove(self, caller: Caller, address: str) -> None:
        email, primary = self._find(caller, address)
        if email.primary:
            raise PrimaryEmailRemoval("Make another verified address the primary first.")
        logged = self.activity.entry(caller, ActivityKind.EMAIL_REMOVED, email.key, address=email.address)
        self.store.remove(email, primary, also=[logged])
        metrics.add_metric(name="EmailRemoved", unit="Count", value=1)
