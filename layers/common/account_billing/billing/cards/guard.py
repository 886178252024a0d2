"""Card-testing defences (Stripe's guidance on card testing): what one account may try.

- Velocity: at most `card_attempts_per_hour` new cards tried an hour, counted before Stripe sees
  the card; after `card_declines_per_day` declines in a day, adding cards is locked for
  `card_lock_minutes`. Both answer 429 with Retry-After, each with its own problem type.
- Caps: at most `max_cards` cards (cards being added right now included), and at most
  `max_open_holds` pre-authorizations open at once (a removed card's hold is released at once,
  so removing a card and adding it again cannot stack holds).

The caps are counted from the cards and holds themselves, and the count stands only if no other
card addition was recorded since: the new hold's own transaction advances the account's book of
additions from the value read (`reserve`), so concurrent additions never get past a cap. The
counters are windowed (`core.ratelimit_windows`) and keyed by the account, and the lock is kept
apart from the account's items: deleting the account and creating it again resets none of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from account_billing.billing.cards.errors import (
    CardAttemptsLimited,
    CardLimitReached,
    CardsLocked,
    TooManyOpenHolds,
)
from account_billing.billing.cards.guard_store import GuardStore
from account_billing.billing.cards.store import CardStore
from account_billing.billing.holds.records import HoldStatus
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.settings import BillingSettings
from account_billing.core.clock import Clock, epoch_seconds, parse_timestamp, utc_now
from account_billing.core.observability import logger, metrics
from account_billing.core.ratelimit_windows import EXPIRY_GRACE, LimitReached, WindowCounters, WindowLimit
from account_billing.core.table import Table, TransactItem


@dataclass(frozen=True, slots=True)
class CardLimits:
    attempts: WindowLimit  # new cards tried, per account
    declines: WindowLimit  # declines, per account, before the lock
    lock: timedelta
    max_cards: int
    max_open_holds: int

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> CardLimits:
        return cls(
            attempts=WindowLimit("card-attempt", settings.card_attempts_per_hour, timedelta(hours=1)),
            declines=WindowLimit("card-decline", settings.card_declines_per_day, timedelta(days=1)),
            lock=timedelta(minutes=settings.card_lock_minutes),
            max_cards=settings.max_cards,
            max_open_holds=settings.max_open_holds,
        )


class CardGuard:
    def __init__(
        self, table: Table, cards: CardStore, holds: HoldStore, limits: CardLimits, clock: Clock = utc_now
    ) -> None:
        self.store = GuardStore(table)
        self.counters = WindowCounters(table, clock)
        self.cards = cards
        self.holds = holds
        self.limits = limits
        self.clock = clock

    def admit(self, sub: str) -> None:
        """Count one new card tried by the account, unless adding cards is locked for it
        (`CardsLocked`) or it tried as many as it may this hour (`CardAttemptsLimited`)."""
        now = self.clock()
        until = self.store.locked_until(sub)
        if until is not None and until > now.timestamp():
            wait = math.ceil(until - now.timestamp())
            raise CardsLocked(
                f"Too many cards were declined on this account; adding cards is locked for {wait} s.", wait
            )
        try:
            self.counters.count(self.limits.attempts, sub)
        except LimitReached as exc:
            metrics.add_metric(name="CardAttemptsLimited", unit="Count", value=1)
            raise CardAttemptsLimited(
                f"At most {self.limits.attempts.limit} cards can be tried an hour; try again in {exc.retry_after} s.",
                exc.retry_after,
            ) from exc

    def declined(self, sub: str) -> None:
        """Count a decline; the one that fills the day's budget locks card additions."""
        try:
            counted = self.counters.count(self.limits.declines, sub)
        except LimitReached:
            counted = self.limits.declines.limit
        if counted < self.limits.declines.limit:
            return
        until = self.clock() + self.limits.lock
        self.store.lock(sub, epoch_seconds(until), epoch_seconds(until + EXPIRY_GRACE))
        metrics.add_metric(name="CardAdditionsLocked", unit="Count", value=1)
        logger.warning("Card additions locked after repeated declines")

    def reserve(self, sub: str) -> TransactItem:
        """Room for one more card and its hold: `CardLimitReached` if the account has as many
        cards as it may keep (cards being added count), `TooManyOpenHolds` if as many holds are
        open as may be. Returns the action the new hold's transaction carries, which fails
        (`CardsChanged`) when another addition was recorded since this count."""
        seen = self.store.additions(sub)  # read first: any addition recorded later fails the action
        cards = self.cards.cards(sub)
        open_holds = [h for h in self.holds.of_account(sub) if h.status != HoldStatus.RELEASED]
        on_account = {c.payment_method_id for c in cards} | {h.payment_method_id for h in open_holds}
        if len(on_account) >= self.limits.max_cards:
            raise CardLimitReached(
                f"An account keeps at most {self.limits.max_cards} cards; remove one before adding another."
            )
        if len(open_holds) >= self.limits.max_open_holds:
            soonest = min(parse_timestamp(h.release_at) for h in open_holds)
            wait = max(1, math.ceil((soonest - self.clock()).total_seconds()))
            raise TooManyOpenHolds(
                f"At most {self.limits.max_open_holds} card pre-authorizations are open at once; "
                f"the next one is released in {wait} s.",
                wait,
            )
        return GuardStore.advance(sub, seen)
