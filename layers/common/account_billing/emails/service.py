"""Email addresses of an account: list, add with verification, verify, primary, remove.

What users expect from GitHub or GitLab: an address counts only once verified, a verified
address belongs to one account, the primary cannot be lost by accident, and an account that had a
verified primary always keeps one.

At most `MAX_ADDRESSES` live addresses (verified, or unverified and not expired): counted from
the addresses themselves when one is added, so an address DynamoDB's TTL removes (or that has
expired and waits for it) is never counted, and two concurrent additions are told apart by the
book of additions (`EmailStore.add`). Verification emails are counted against sending budgets
(`settings`) keyed by the address's hash and by the account, which removing an address and
adding it again does not reset.
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
from account_billing.core.ratelimit_windows import Slot, WindowCounters
from account_billing.emails import tokens as verification_tokens
from account_billing.emails.addresses import address_key
from account_billing.emails.errors import (
    EmailAlreadyAdded,
    EmailDeliveryFailed,
    EmailLimitReached,
    EmailNotFound,
    EmailNotVerified,
    InvalidVerificationToken,
    PrimaryEmailRemoval,
    VerificationTokenExpired,
)
from account_billing.emails.messages import Message, primary_changed_notice, verification_message
from account_billing.emails.models import EmailList, EmailView
from account_billing.emails.records import Email
from account_billing.emails.settings import SendLimits, address_subject
from account_billing.emails.store import AdditionRaced, EmailStore, SendLimited, SendRefused

MAX_ADDRESSES = 10
TOKEN_VALID_HOURS = 24
UNVERIFIED_KEPT_DAYS = 3  # then it expires, and DynamoDB's TTL removes it
RESEND_COOLDOWN = timedelta(seconds=60)  # per address item, besides the budgets' interval


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
        *,
        counters: WindowCounters,
        limits: SendLimits,
        clock: Clock = utc_now,
        activity: ActivityLog | None = None,
    ) -> None:
        self.store = store
        self.send = send
        self.web_app_url = web_app_url
        self.counters = counters
        self.limits = limits
        self.clock = clock
        self.activity = activity or ActivityLog.of(store.table, clock)

    def _live(self, sub: str) -> list[Email]:
        now = self.clock()
        return [e for e in self.store.list(sub) if e.live(now)]

    def list(self, caller: Caller) -> EmailList:
        return EmailList(emails=[email_view(i) for i in _sorted(self._live(caller.sub))], limit=MAX_ADDRESSES)

    def _find(self, caller: Caller, address: str) -> tuple[Email, Email | None]:
        """The caller's address `address` (`EmailNotFound` if it has none) and its primary."""
        emails = self._live(caller.sub)
        wanted = address_key(address)
        found = next((e for e in emails if e.key == wanted), None)
        if found is None:
            raise EmailNotFound("The account has no such address.")
        return found, next((e for e in emails if e.primary), None)

    def add(self, caller: Caller, address: str) -> EmailView:
        """Add an unverified address and send its verification email: one Query (the addresses
        and the book) and one transaction, read again only when another addition raced it."""
        wanted = address_key(address)
        for _ in range(MAX_ADDRESSES + 1):  # each lost race is another's addition: bounded
            now = self.clock()
            book = self.store.book(caller.sub)
            live = [e for e in book.emails if e.live(now)]
            if any(e.key == wanted for e in live):
                raise EmailAlreadyAdded("The address is already on this account.")
            if len(live) >= MAX_ADDRESSES:
                raise EmailLimitReached(f"An account may have at most {MAX_ADDRESSES} addresses.")
            token = verification_tokens.new_token()
            email = Email(
                sub=caller.sub,
                address=address,
                added_at=timestamp(now),
                expires_at=epoch_seconds(now + timedelta(days=UNVERIFIED_KEPT_DAYS)),
                token_hash=verification_tokens.token_hash(token),
                token_expires_at=epoch_seconds(now + timedelta(hours=TOKEN_VALID_HOURS)),
                verification_sent_at=timestamp(now),
                send_count=1,
            )
            slots = self._send_slots(email)
            logged = self.activity.entry(caller, ActivityKind.EMAIL_ADDED, email.key, address=address)
            try:
                self.store.add(email, book, now, slots, also=[logged])
            except AdditionRaced:
                continue
            except SendLimited as exc:
                raise _too_many(exc.slot) from exc
            break
        else:
            raise ConcurrentUpdate("The addresses changed while the request ran; retry it.")
        self.activity.committed(logged)
        metrics.add_metric(name="EmailAdded", unit="Count", value=1)
        self._deliver(email, token, slots)
        return email_view(email)

    def resend(self, caller: Caller, address: str) -> EmailView:
        email, _ = self._find(caller, address)
        if email.verified:
            raise EmailAlreadyAdded("The address is already verified.")
        now = self.clock()
        token = verification_tokens.new_token()
        digest = verification_tokens.token_hash(token)
        slots = self._send_slots(email)
        try:
            self.store.record_sent(
                email,
                digest,
                epoch_seconds(now + timedelta(hours=TOKEN_VALID_HOURS)),
                timestamp(now),
                cooldown_from=timestamp(now - RESEND_COOLDOWN),
                slots=slots,
            )
        except SendRefused as exc:
            raise TooManyRequests(
                "A verification email was sent less than a minute ago.",
                retry_after_seconds=int(RESEND_COOLDOWN.total_seconds()),
            ) from exc
        except SendLimited as exc:
            raise _too_many(exc.slot) from exc
        sent = dataclasses.replace(email, token_hash=digest, verification_sent_at=timestamp(now))
        self._deliver(sent, token, slots)
        return email_view(sent)

    def _send_slots(self, email: Email) -> tuple[Slot, ...]:
        """The budgets one verification email to `email` is counted against (in the same
        transaction as its token): the interval and the address's day (by hashes), the
        account's day."""
        return (
            self.counters.slot(self.limits.interval, address_subject(email.address, email.sub)),
            self.counters.slot(self.limits.per_address, address_subject(email.address)),
            self.counters.slot(self.limits.per_account, email.sub),
        )

    def _deliver(self, email: Email, token: str, slots: tuple[Slot, ...]) -> None:
        """Send the verification email whose token `email` holds now. If it cannot be sent,
        its token goes and its budgets are given back, so asking again works at once."""
        try:
            self.send(verification_message(email.address, token, self.web_app_url, TOKEN_VALID_HOURS))
        except Exception as exc:
            self.store.forget_send(email, email.token_hash or "")
            for slot in slots:
                self.counters.give_back(slot)
            logger.exception("Verification email not sent")
            raise EmailDeliveryFailed("The verification email could not be sent; ask for it again.") from exc

    def verify(self, caller: Caller, token: str) -> EmailView:
        emails = self._live(caller.sub)
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


def _too_many(slot: Slot) -> TooManyRequests:
    refused = slot.refused()
    scope = {
        "email-address-interval": "A verification email was sent to this address less than "
        f"{int(slot.limit.window.total_seconds())} s ago.",
        "email-address": f"At most {slot.limit.limit} verification emails a day go to one address.",
        "email-account": f"At most {slot.limit.limit} verification emails a day go out for one account.",
    }
    return TooManyRequests(
        f"{scope.get(slot.limit.scope, 'Too many verification emails.')} Try again in {refused.retry_after} s.",
        refused.retry_after,
    )
