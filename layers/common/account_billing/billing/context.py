"""The billing context: what every billing service works with, built once per container and
handed to each service (no service reaches into another's attributes for its collaborators).

Nothing costly happens here: the Stripe gateway imports stripe and fetches its key at the first
Stripe call, and the hold release scheduler and the queue of background Stripe work are built on
first use (functions that schedule or queue nothing, such as invoices, have no configuration for
them).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from account_billing.accounts.store import AccountStore
from account_billing.activity.service import ActivityLog
from account_billing.billing.cards.store import CardStore
from account_billing.billing.customers import CustomerDirectory
from account_billing.billing.details.store import BillingDetailsStore
from account_billing.billing.holds.scheduling import ReleaseScheduler
from account_billing.billing.holds.store import HoldStore
from account_billing.billing.invoices.store import InvoiceStore
from account_billing.billing.settings import BillingSettings, billing_settings
from account_billing.billing.store import CustomerStore
from account_billing.billing.stripe.budget import StripeBudget
from account_billing.billing.stripe.deferred import deferred_gateway
from account_billing.billing.subscriptions.store import SubscriptionStore
from account_billing.billing.webhooks.store import EventStore
from account_billing.core.clock import Clock, utc_now
from account_billing.core.ratelimit_windows import WindowCounters
from account_billing.core.settings import get_settings, required
from account_billing.core.table import Table
from account_billing.core.wiring import dynamodb_client, per_container, scheduler_client, sqs_client

if TYPE_CHECKING:
    from account_billing.billing.stripe.gateway import StripeGateway
    from account_billing.billing.stripe.ratelimit import RateLimiter
    from account_billing.billing.tasks import TaskQueue


class BillingContext:
    def __init__(
        self,
        settings: BillingSettings,
        table: Table,
        gateway: StripeGateway,
        *,
        scheduler: ReleaseScheduler | None = None,
        tasks: TaskQueue | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.table = table
        self.gateway = gateway
        self.clock = clock
        self._scheduler = scheduler
        self._tasks = tasks
        self.accounts = AccountStore(table)
        self.cards = CardStore(table)
        self.holds = HoldStore(table)
        self.subscriptions = SubscriptionStore(table, settings.plan_price_ids)
        self.invoices = InvoiceStore(table)
        self.billing_details = BillingDetailsStore(table)
        self.events = EventStore(table)
        self.customers = CustomerDirectory(CustomerStore(table), gateway)
        self.activity = ActivityLog.of(table, clock)

    @cached_property
    def scheduler(self) -> ReleaseScheduler:
        """The one-time release schedules of holds (built on first use)."""
        return self._scheduler or ReleaseScheduler.from_settings(scheduler_client(), self.settings)

    @cached_property
    def tasks(self) -> TaskQueue:
        """The queue of background Stripe work (built on first use)."""
        if self._tasks is not None:
            return self._tasks
        # Its task models (pydantic) only where background work is queued.
        from account_billing.billing.tasks import TaskQueue  # noqa: PLC0415

        return TaskQueue(sqs_client(), required(self.settings.stripe_task_queue_url, "STRIPE_TASK_QUEUE_URL"))

    @cached_property
    def budget(self) -> StripeBudget:
        """The interactive share of Stripe's rate limit, counted across containers."""
        return StripeBudget(WindowCounters(self.table, self.clock), self.settings.stripe_interactive_rate)


def build_context(limiter: RateLimiter | None = None) -> BillingContext:
    """A context from this function's configuration; `limiter` bounds its Stripe calls."""
    settings = billing_settings()
    return BillingContext(
        settings, Table(dynamodb_client(), get_settings().table_name), deferred_gateway(settings, limiter)
    )


@per_container
def billing_context() -> BillingContext:
    return build_context()
