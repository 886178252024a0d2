"""Cards: collecting one (a SetupIntent for Stripe.js), adding it with its pre-authorization hold,
listing, choosing the default, removing. DESIGN §6.

Adding a card, step by step (each step safe to run again when a request is retried):
  1. the card is attached to the account's Stripe customer (Stripe's card check may decline it);
  2. the hold is recorded, with the card's fingerprint claimed on the account (same card twice:
     409), before Stripe is asked for any money;
  3. a PaymentIntent with manual capture is confirmed, its idempotency key derived from the hold;
  4. the outcome is stored with the card (first verified card: the default), and the hold's
     release is scheduled.
A decline removes the hold and detaches the card: nothing is left behind. A crash between 3 and
4 leaves the hold recorded as `authorizing`: a retry of the request resumes it, and the sweeper
releases it at its release time in any case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..data import keys
from ..data.accounts import ACTIVE, AccountStore
from ..data.table import ConditionFailed, Table, TransactionCancelled, marshal, values
from ..errors import (
    AccountNotFound,
    CardDeclined,
    CardNotVerified,
    ConcurrentUpdate,
    DefaultCardRequired,
    DuplicateCard,
    IdempotencyKeyReused,
    PaymentMethodNotFound,
    PaymentProviderUnavailable,
)
from ..identity import Caller
from ..models.billing_requests import AddPaymentMethodRequest
from ..models.billing_responses import CardAdded, HoldView, PaymentMethodList, PaymentMethodView, SetupIntentView
from ..observability import logger, metrics
from .customers import CustomerDirectory
from .holds import fingerprint_marker, hold_id_for, new_hold
from .plans import FREE_PLAN, hold_plan
from .records import AUTHORIZING, HELD, REQUIRES_ACTION, CardStore, HoldStore, card_key, fingerprint_key, hold_key

if TYPE_CHECKING:
    from .gateway import Authorization, CardDetails, StripeGateway
    from .scheduling import ReleaseScheduler

VERIFIED = "verified"
_HOLD_STATUS = {AUTHORIZING: "pending"}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def hold_view(hold: Mapping[str, Any]) -> HoldView:
    return HoldView(
        id=hold["hold_id"],
        amount=hold["amount"],
        currency=hold["currency"],
        status=_HOLD_STATUS.get(hold["status"], hold["status"]),
        release_at=_when(hold["release_at"]),
        released_at=_when(hold["released_at"]) if hold.get("released_at") else None,
        outcome=hold.get("outcome"),
    )


def card_view(card: Mapping[str, Any], hold: Mapping[str, Any] | None) -> PaymentMethodView:
    return PaymentMethodView(
        id=card["payment_method_id"],
        brand=card["brand"],
        last4=card["last4"],
        exp_month=card["exp_month"],
        exp_year=card["exp_year"],
        default=bool(card.get("default")),
        verification=card["verification"],
        added_at=_when(card["added_at"]),
        hold=hold_view(hold) if hold else None,
    )


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """What adding a card answered: 201 (verified) or 202 (3-D Secure needed)."""

    status: int
    body: CardAdded


def _active(account: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if account is None or account.get("status") != ACTIVE:
        raise AccountNotFound("The caller has no account.")
    return account


class PaymentMethodService:
    def __init__(
        self,
        table: Table,
        gateway: StripeGateway,
        scheduler: ReleaseScheduler,
        *,
        currency: str,
        release_delay: timedelta,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.table = table
        self.accounts = AccountStore(table)
        self.cards = CardStore(table)
        self.holds = HoldStore(table)
        self.customers = CustomerDirectory(table, gateway)
        self.gateway = gateway
        self.scheduler = scheduler
        self.currency = currency
        self.release_delay = release_delay
        self.clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------------ collecting
    def setup_intent(self, caller: Caller) -> SetupIntentView:
        account = _active(self.accounts.get(caller.sub, consistent=True))
        return SetupIntentView(client_secret=self.gateway.create_setup_intent(self.customers.ensure(account)))

    # ------------------------------------------------------------------ adding
    def add(self, caller: Caller, request: AddPaymentMethodRequest, request_key: str) -> AddOutcome:
        """Add a card and place its hold. `request_key` is the request's Idempotency-Key: the
        hold's id derives from it, so a retry after a crash resumes the same hold."""
        account = _active(self.accounts.get(caller.sub, consistent=True))
        hold_id = hold_id_for(caller.sub, request_key)
        existing = self.holds.get(caller.sub, hold_id)
        if existing is not None:
            return self._resume(existing, request)
        customer_id = self.customers.ensure(account)
        card = self._attach(request.payment_method, customer_id)
        if not card.fingerprint:
            raise PaymentMethodNotFound("The payment method is not a card.")
        plan = hold_plan(request.plan, account.get("plan"))
        hold = new_hold(
            sub=caller.sub,
            hold_id=hold_id,
            plan=plan,
            currency=self.currency,
            customer_id=customer_id,
            payment_method_id=card.payment_method_id,
            requested_payment_method=request.payment_method,
            fingerprint=card.fingerprint,
            now=self.clock(),
            release_delay=self.release_delay,
        )
        try:
            self.holds.start(hold, fingerprint_marker(caller.sub, card.fingerprint, card.payment_method_id))
        except DuplicateCard as duplicate:
            # A second copy of the card goes; the payment method that holds the card's place
            # (listed, or being added by another request right now) is never detached.
            if duplicate.held_by != card.payment_method_id:
                self._detach_unless_listed(caller.sub, card.payment_method_id)
            raise
        except ConditionFailed as exc:  # the same request, running concurrently
            raise ConcurrentUpdate("This request is already being processed.") from exc
        return self._authorize(hold, card, account)

    def _attach(self, payment_method: str, customer_id: str) -> CardDetails:
        """Attach the card to the customer. A card attached to another customer is, to this
        caller, no card at all (404): one account never reaches another's cards."""
        if not payment_method.startswith("pm_card_"):  # Stripe's test shortcuts create a new card each time
            current = self.gateway.payment_method(payment_method)
            if current.customer_id == customer_id:
                return current
            if current.customer_id is not None:
                raise PaymentMethodNotFound("No such payment method.")
        return self.gateway.attach(payment_method, customer_id)

    def _detach_unless_listed(self, sub: str, payment_method_id: str) -> None:
        if self.cards.get(sub, payment_method_id) is None:
            self.gateway.detach(payment_method_id)

    def _authorize(self, hold: dict[str, Any], card: CardDetails, account: Mapping[str, Any]) -> AddOutcome:
        sub = account["sub"]
        try:
            authorization = self.gateway.authorize(
                hold_id=hold["hold_id"],
                account_key=sub,
                customer_id=hold["customer_id"],
                payment_method_id=hold["payment_method_id"],
                amount=hold["amount"],
                currency=hold["currency"],
            )
        except CardDeclined:
            self.holds.discard(sub, hold["hold_id"], hold["fingerprint"])
            self.gateway.detach(hold["payment_method_id"])
            metrics.add_metric(name="CardDeclined", unit="Count", value=1)
            raise
        return self._record(hold, card, account, authorization)

    def _record(
        self, hold: dict[str, Any], card: CardDetails, account: Mapping[str, Any], authorization: Authorization
    ) -> AddOutcome:
        if authorization.status not in ("authorized", "requires_action"):
            # Not an answer a fresh confirmation gives; leave the hold for the sweeper.
            logger.error("Unexpected PaymentIntent state", extra={"status": authorization.status})
            raise PaymentProviderUnavailable("The card could not be verified; retry later.")
        verified = authorization.status == "authorized"
        status = HELD if verified else REQUIRES_ACTION
        held = hold | {"status": status, "payment_intent_id": authorization.payment_intent_id}
        item = {
            **card_key(account["sub"], card.payment_method_id),
            "entity": "card",
            "sub": account["sub"],
            "payment_method_id": card.payment_method_id,
            "customer_id": hold["customer_id"],
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "funding": card.funding,
            "fingerprint": card.fingerprint,
            "verification": VERIFIED if verified else REQUIRES_ACTION,
            "added_at": hold["created_at"],
            "default": False,
            "hold_id": hold["hold_id"],
        }
        make_default = verified and not account.get("default_payment_method")
        self._write_outcome(held, item, account["sub"], make_default, authorization)
        self.scheduler.schedule(account["sub"], hold["hold_id"], _when(hold["release_at"]))
        metrics.add_metric(name="CardVerified" if verified else "CardNeedsAuthentication", unit="Count", value=1)
        body = CardAdded(
            payment_method=card_view(item, held),
            hold=hold_view(held),
            client_secret=None if verified else authorization.client_secret,
            next_action=None if verified else "authenticate",
        )
        return AddOutcome(201 if verified else 202, body)

    def _write_outcome(
        self,
        hold: Mapping[str, Any],
        card: dict[str, Any],
        sub: str,
        make_default: bool,
        authorization: Authorization,
    ) -> None:
        """Store the hold's new state and the card in one transaction; the first verified card
        becomes the default unless another request made one meanwhile."""
        update_hold = {
            "Update": {
                "Key": marshal(hold_key(sub, hold["hold_id"])),
                "UpdateExpression": "SET #status = :status, payment_intent_id = :pi",
                "ConditionExpression": "#status = :authorizing",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values(
                    status=hold["status"], pi=authorization.payment_intent_id, authorizing=AUTHORIZING
                ),
            }
        }
        for attempt_default in (make_default, False) if make_default else (False,):
            card["default"] = attempt_default
            actions: list[dict[str, Any]] = [
                update_hold,
                {"Put": {"Item": marshal(card), "ConditionExpression": "attribute_not_exists(PK)"}},
            ]
            if attempt_default:
                actions.append(_claim_default(sub, card["payment_method_id"]))
            try:
                self.table.transact(actions)
            except TransactionCancelled as exc:
                if exc.failed(0):
                    self._interrupted(hold, authorization)
                if attempt_default and exc.failed(2):
                    continue  # another card became the default meanwhile
                raise ConcurrentUpdate() from exc
            if attempt_default:
                self._tell_stripe_default(card["customer_id"], card["payment_method_id"])
            return

    def _interrupted(self, hold: Mapping[str, Any], authorization: Authorization) -> None:
        """The hold was taken for release (account deletion) while Stripe authorized it: void
        the new authorization and let the caller retry."""
        self.gateway.release(authorization.payment_intent_id, hold_id=hold["hold_id"], attempt=0)
        raise PaymentProviderUnavailable("The card verification was interrupted; retry it.")

    def _tell_stripe_default(self, customer_id: str, payment_method_id: str) -> None:
        try:
            self.gateway.set_default_payment_method(customer_id, payment_method_id)
        except PaymentProviderUnavailable:
            logger.warning("Stripe's default payment method not updated")

    def _resume(self, hold: dict[str, Any], request: AddPaymentMethodRequest) -> AddOutcome:
        """The same Idempotency-Key again, after the first attempt stopped midway."""
        if hold["requested_payment_method"] != request.payment_method:
            raise IdempotencyKeyReused("This Idempotency-Key was used to add another card.")
        sub = hold["sub"]
        account = _active(self.accounts.get(sub, consistent=True))
        if hold["status"] != AUTHORIZING:
            card = self.cards.get(sub, hold["payment_method_id"])
            if card is None:
                raise IdempotencyKeyReused("This Idempotency-Key was used for a card that is gone.")
            return AddOutcome(
                201 if card["verification"] == VERIFIED else 202,
                CardAdded(
                    payment_method=card_view(card, hold),
                    hold=hold_view(hold),
                    next_action=None if card["verification"] == VERIFIED else "authenticate",
                ),
            )
        details = self.gateway.payment_method(hold["payment_method_id"])
        created = int(_when(hold["created_at"]).timestamp())
        found = self.gateway.find_authorization(hold["customer_id"], hold["hold_id"], created - 600)
        if found is not None and found.status in ("authorized", "requires_action"):
            return self._record(hold, details, account, found)
        return self._authorize(hold, details, account)

    # ------------------------------------------------------------------ 3-D Secure completion
    def complete_verification(self, sub: str, hold_id: str, payment_intent_id: str) -> bool:
        """The bank confirmed a hold that waited for 3-D Secure (Stripe's
        `payment_intent.amount_capturable_updated`): the hold is held, the card verified, and
        the default if the account has none. False if there was nothing to complete."""
        hold = self.holds.get(sub, hold_id)
        # Only a hold that waits for the customer's authentication: Stripe sends the same event
        # for every manual-capture authorization, and a hold still `authorizing` belongs to an
        # add-card request that is running (or will be resumed); that request records it.
        if hold is None or hold["status"] != REQUIRES_ACTION:
            return False
        account = self.accounts.get(sub, consistent=True)
        make_default = bool(account) and not (account or {}).get("default_payment_method")
        for attempt_default in (make_default, False) if make_default else (False,):
            actions: list[dict[str, Any]] = [
                {
                    "Update": {
                        "Key": marshal(hold_key(sub, hold_id)),
                        "UpdateExpression": "SET #status = :held, payment_intent_id = :pi",
                        "ConditionExpression": "#status = :action",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": values(held=HELD, pi=payment_intent_id, action=REQUIRES_ACTION),
                    }
                },
                {
                    "Update": {
                        "Key": marshal(card_key(sub, hold["payment_method_id"])),
                        "UpdateExpression": "SET verification = :verified, #default = :default",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeNames": {"#default": "default"},
                        "ExpressionAttributeValues": values(verified=VERIFIED, default=attempt_default),
                    }
                },
            ]
            if attempt_default:
                actions.append(_claim_default(sub, hold["payment_method_id"]))
            try:
                self.table.transact(actions)
            except TransactionCancelled as exc:
                if exc.failed(0):
                    return False
                if exc.failed(1):  # the card was removed meanwhile: the hold still gets released
                    self.holds.table.update(
                        hold_key(sub, hold_id),
                        UpdateExpression="SET #status = :held, payment_intent_id = :pi",
                        ConditionExpression="#status = :action",
                        ExpressionAttributeNames={"#status": "status"},
                        ExpressionAttributeValues=values(held=HELD, pi=payment_intent_id, action=REQUIRES_ACTION),
                    )
                    return True
                if attempt_default and exc.failed(2):
                    continue
                raise ConcurrentUpdate() from exc
            if attempt_default:
                self._tell_stripe_default(hold["customer_id"], hold["payment_method_id"])
            return True
        return False

    # ------------------------------------------------------------------ listing and choosing
    def list(self, caller: Caller) -> PaymentMethodList:
        """The cards, newest first, each with its hold (two requests: a Query, a BatchGetItem)."""
        cards = sorted(self.cards.cards(caller.sub), key=lambda c: c["added_at"], reverse=True)
        account, holds = self.cards.with_account_and_holds(caller.sub, cards)
        _active(account)
        return PaymentMethodList(payment_methods=[card_view(c, holds.get(c.get("hold_id", ""))) for c in cards])

    def set_default(self, caller: Caller, payment_method_id: str) -> None:
        sub = caller.sub
        cards = {c["payment_method_id"]: c for c in self.cards.cards(sub)}
        card = cards.get(payment_method_id)
        if card is None:
            raise PaymentMethodNotFound("No such payment method.")
        if card["verification"] != VERIFIED:
            raise CardNotVerified("Only a verified card can be the default.")
        if card.get("default"):
            return
        previous = next((c for c in cards.values() if c.get("default")), None)
        actions = [_set_default_flag(sub, payment_method_id, True, require_verified=True)]
        if previous is not None:
            actions.append(_set_default_flag(sub, previous["payment_method_id"], False))
        actions.append(_move_default(sub, payment_method_id, previous["payment_method_id"] if previous else None))
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            if exc.failed(len(actions) - 1) and not exc.failed(0):
                raise AccountNotFound("The caller has no account.") from exc
            raise ConcurrentUpdate("The cards changed while the request ran; retry it.") from exc
        self._tell_stripe_default(card["customer_id"], payment_method_id)

    def remove(self, caller: Caller, payment_method_id: str) -> None:
        """Remove a card. The default card stays while a paid plan is active and no other
        verified card can take its place; otherwise another verified card becomes the default."""
        sub = caller.sub
        cards = {c["payment_method_id"]: c for c in self.cards.cards(sub)}
        card = cards.get(payment_method_id)
        if card is None:
            raise PaymentMethodNotFound("No such payment method.")
        is_default = bool(card.get("default"))
        actions: list[dict[str, Any]] = [
            {
                "Delete": {
                    "Key": marshal(card_key(sub, payment_method_id)),
                    "ConditionExpression": "attribute_exists(PK) AND #default = :default",
                    "ExpressionAttributeNames": {"#default": "default"},
                    "ExpressionAttributeValues": values(default=is_default),
                }
            },
            {"Delete": {"Key": marshal(fingerprint_key(sub, card["fingerprint"]))}},
        ]
        successor = None
        if is_default:
            others = [c for c in cards.values() if c is not card and c["verification"] == VERIFIED]
            successor = max(others, key=lambda c: c["added_at"]) if others else None
            if successor is not None:
                actions.append(_set_default_flag(sub, successor["payment_method_id"], True, require_verified=True))
                actions.append(_move_default(sub, successor["payment_method_id"], payment_method_id))
            else:
                actions.append(_drop_default_on_free_plan(sub, payment_method_id))
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            if is_default and successor is None and exc.failed(2) and not exc.failed(0):
                raise DefaultCardRequired(
                    "The default card cannot be removed while a paid plan is active and no other verified card "
                    "exists; add another card first."
                ) from exc
            raise ConcurrentUpdate("The cards changed while the request ran; retry it.") from exc
        self.gateway.detach(payment_method_id)
        if successor is not None:
            self._tell_stripe_default(successor["customer_id"], successor["payment_method_id"])
        metrics.add_metric(name="CardRemoved", unit="Count", value=1)


# ---------------------------------------------------------------------- transaction actions
def _claim_default(sub: str, payment_method_id: str) -> dict[str, Any]:
    """Name the account's first default card (only if it has none and is active)."""
    return {
        "Update": {
            "Key": marshal(keys.profile_key(sub)),
            "UpdateExpression": "SET default_payment_method = :pm",
            "ConditionExpression": "attribute_not_exists(default_payment_method) AND #status = :active",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(pm=payment_method_id, active=ACTIVE),
        }
    }


def _move_default(sub: str, payment_method_id: str, previous: str | None) -> dict[str, Any]:
    condition = "#status = :active AND " + (
        "default_payment_method = :previous" if previous else "attribute_not_exists(default_payment_method)"
    )
    named: dict[str, Any] = {"pm": payment_method_id, "active": ACTIVE}
    if previous:
        named["previous"] = previous
    return {
        "Update": {
            "Key": marshal(keys.profile_key(sub)),
            "UpdateExpression": "SET default_payment_method = :pm",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(**named),
        }
    }


def _drop_default_on_free_plan(sub: str, payment_method_id: str) -> dict[str, Any]:
    return {
        "Update": {
            "Key": marshal(keys.profile_key(sub)),
            "UpdateExpression": "REMOVE default_payment_method",
            "ConditionExpression": "default_payment_method = :pm AND (attribute_not_exists(#plan) OR #plan = :free)",
            "ExpressionAttributeNames": {"#plan": "plan"},
            "ExpressionAttributeValues": values(pm=payment_method_id, free=FREE_PLAN.key),
        }
    }


def _set_default_flag(
    sub: str, payment_method_id: str, value: bool, *, require_verified: bool = False
) -> dict[str, Any]:
    condition = "attribute_exists(PK)" + (" AND verification = :verified" if require_verified else "")
    named: dict[str, Any] = {"value": value}
    if require_verified:
        named["verified"] = VERIFIED
    return {
        "Update": {
            "Key": marshal(card_key(sub, payment_method_id)),
            "UpdateExpression": "SET #default = :value",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#default": "default"},
            "ExpressionAttributeValues": values(**named),
        }
    }
