"""Spending alerts (issue 16): per-account thresholds, percentages of the month's limit (50, 80
and 100 unless the account chose others). Each usage event counted goes on to check them, on the
same path as `SpendingLimitReached` and in the same way: the first event that takes the spend
over a threshold claims its mark for the month (a conditional put: one winner however many
events race), publishes `SpendingThresholdCrossed` on the usage bus, and emails the billing
email. An event that could not be published gives its mark back, so the usage event's retry
publishes it; an email that could not be sent is counted and not retried (at most once)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from account_billing.accounts.store import AccountStore
from account_billing.billing.plans import plan_of
from account_billing.core.clock import Clock, epoch_seconds, parse_timestamp, timestamp, utc_now
from account_billing.core.errors import ConcurrentUpdate
from account_billing.core.identity import Caller
from account_billing.core.observability import logger, metrics
from account_billing.emails.messages import Message
from account_billing.spending.alerts_models import AlertSettingsView, CrossedThreshold, SpendingOverview
from account_billing.spending.alerts_records import MARK_DAYS, AlertMark, AlertSettings
from account_billing.spending.alerts_store import AlertStore
from account_billing.spending.service import month_of, monthly_limit, spending_view

Recipient = Callable[[str], str | None]


def crossed_now(thresholds: tuple[int, ...], already: set[int], spent: int, limit: int) -> list[int]:
    """The thresholds the spend has reached that have not alerted yet this month (pure)."""
    if limit <= 0 or spent <= 0:
        return []
    return sorted(t for t in thresholds if t not in already and spent * 100 >= t * limit)


def alert_message(to: str, mark: AlertMark, month: str, currency: str, web_app_url: str) -> Message:
    spent, limit = mark.spent_cents / 100, mark.limit_cents / 100
    return Message(
        to=to,
        subject=f"Spending alert: {mark.percent}% of this month's limit",
        text=(
            f"Your usage in {month} has reached {spent:,.2f} {currency.upper()}, {mark.percent}% of your plan's "
            f"monthly limit of {limit:,.2f} {currency.upper()}.\n\n"
            f"See your spending and change these alerts: {web_app_url.rstrip('/')}/settings/billing/spending\n"
        ),
    )


class SpendingAlerts:
    def __init__(
        self,
        accounts: AccountStore,
        store: AlertStore,
        *,
        publish: Callable[[dict[str, Any]], None],
        send: Callable[[Message], None],
        recipient: Recipient,
        web_app_url: str,
        currency: str = "usd",
        clock: Clock = utc_now,
    ) -> None:
        self.accounts = accounts
        self.store = store
        self.publish = publish
        self.send = send
        self.recipient = recipient
        self.web_app_url = web_app_url
        self.currency = currency
        self.clock = clock

    # ------------------------------------------------------------------ on each usage event
    def check(self, sub: str, month: str, plan_key: str | None) -> None:
        """Alert once for each threshold the month's spend has reached."""
        limit = monthly_limit(plan_key)
        if limit <= 0:
            return
        spend, marks = self.store.month(sub, month)
        if spend.spent_cents <= 0:
            return
        thresholds = self.store.settings(sub).thresholds
        for percent in crossed_now(thresholds, {m.percent for m in marks}, spend.spent_cents, limit):
            now = self.clock()
            mark = AlertMark(percent, timestamp(now), spend.spent_cents, limit)
            if not self.store.claim(sub, month, mark, epoch_seconds(now + timedelta(days=MARK_DAYS))):
                continue  # another event got there first
            self._announce(sub, month, plan_key, mark)

    def _announce(self, sub: str, month: str, plan_key: str | None, mark: AlertMark) -> None:
        try:
            self.publish(
                {
                    "account": sub,
                    "month": month,
                    "plan": plan_of(plan_key).key,
                    "threshold_percent": mark.percent,
                    "limit_cents": mark.limit_cents,
                    "spent_cents": mark.spent_cents,
                }
            )
        except Exception:
            self.store.unclaim(sub, month, mark)  # nobody heard of it: the retry publishes it
            metrics.add_metric(name="SpendingEventPublishFailed", unit="Count", value=1)
            raise
        to = self.recipient(sub)
        if to is None:
            logger.info("Spending alert without a billing email", extra={"threshold": mark.percent})
            return
        try:
            self.send(alert_message(to, mark, month, self.currency, self.web_app_url))
        except Exception:  # the event is out; the email is not worth a second event
            logger.warning("Spending alert email not sent", extra={"threshold": mark.percent}, exc_info=True)

    # ------------------------------------------------------------------ the routes
    def settings(self, caller: Caller) -> AlertSettingsView:
        self.accounts.require_active(caller.sub)
        return AlertSettingsView(thresholds=sorted(self.store.settings(caller.sub).thresholds))

    def replace(self, caller: Caller, thresholds: list[int]) -> AlertSettingsView:
        current = self.store.settings(caller.sub)
        chosen = AlertSettings(thresholds=tuple(sorted(thresholds)), version=current.version + 1)
        if not self.store.save_settings(caller.sub, chosen, current.version):
            self.accounts.require_active(caller.sub)
            raise ConcurrentUpdate("The alerts changed meanwhile; read them and try again.")
        return AlertSettingsView(thresholds=list(chosen.thresholds))

    def overview(self, caller: Caller) -> SpendingOverview:
        """This month's spending and the thresholds it crossed: the account and one Query."""
        account = self.accounts.require(caller.sub)
        month = month_of(self.clock())
        spend, marks = self.store.month(caller.sub, month)
        view = spending_view(account.plan, month, spend)
        return SpendingOverview(
            **view.model_dump(),
            alerts_crossed=[
                CrossedThreshold(percent=m.percent, crossed_at=parse_timestamp(m.crossed_at), spent_cents=m.spent_cents)
                for m in marks
            ],
        )
