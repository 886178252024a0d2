"""Billing's configuration, parsed once from the environment the template gives the billing
functions (read when first needed, never at import time)."""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from account_billing.core.wiring import per_container

# Card networks keep an uncaptured authorization for seven days (five for some merchant-initiated
# Visa payments); a hold is always released well before: at most four days after it is placed.
MAX_RELEASE_DELAY_MINUTES = 4 * 24 * 60


class BillingSettings(BaseModel):
    """Field names are the environment variables, lowercased."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # stripe: the key from SSM, whatever it is; test: the same, refusing anything but a test key.
    stripe_mode: Literal["stripe", "test"] = "stripe"
    stripe_secret_key_parameter: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_.\-/]+$")
    # Where Stripe's API is reached: Stripe's own unless set (as a stripe-mock is reached, by the
    # local stack for one); only a test key may go anywhere else.
    stripe_api_base: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(:\d+)?$")
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$")
    hold_release_delay_minutes: int = Field(default=24 * 60, ge=1, le=MAX_RELEASE_DELAY_MINUTES)
    # EventBridge Scheduler: the group of the one-time release schedules, their target (the
    # queue of background Stripe work) and the role Scheduler assumes to send to it, and the
    # queue of deliveries that kept failing.
    release_schedule_group: str | None = None
    release_queue_arn: str | None = None
    release_scheduler_role_arn: str | None = None
    release_dead_letter_queue_arn: str | None = None
    # One rate budget for Stripe (requests per second, every container together; Stripe allows
    # 100/s live and 25/s in test mode unless it raised the account's limit). Background work
    # (hold releases, detaches, default cards) goes through `stripe_task_queue_url` and is
    # drained by at most `stripe_worker_concurrency` containers at `stripe_background_rate`
    # between them; card flows draw `stripe_interactive_rate` from a shared counter.
    stripe_task_queue_url: str | None = None
    stripe_background_rate: float = Field(default=20.0, gt=0, le=10_000)
    stripe_worker_concurrency: int = Field(default=2, ge=1, le=1000)
    stripe_interactive_rate: int = Field(default=60, ge=1, le=100_000)
    idempotency_table_name: str | None = None
    # Stripe Price ids of the paid plans, per stage: {"developer": "price_...", ...}.
    plan_price_ids: dict[str, str] = Field(default_factory=dict)
    # Monthly prices of the paid plans in cents, per stage (what the plans page shows; Stripe's
    # Prices charge them): {"developer": 2900, ...}.
    plan_monthly_prices: dict[str, int] = Field(default_factory=dict)
    # The SSM SecureString holding the webhook endpoint's signing secret (whsec_...), and how
    # old a delivery's signature may be (Stripe's own default tolerance: five minutes).
    stripe_webhook_secret_parameter: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_.\-/]+$")
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    # Card-testing defences, per account (`cards.guard`): new cards tried an hour, declines a
    # day before card additions lock for `card_lock_minutes`, cards kept, holds open at once.
    card_attempts_per_hour: int = Field(default=10, ge=1, le=1_000)
    card_declines_per_day: int = Field(default=5, ge=1, le=1_000)
    card_lock_minutes: int = Field(default=24 * 60, ge=1, le=7 * 24 * 60)
    max_cards: int = Field(default=5, ge=1, le=100)
    max_open_holds: int = Field(default=3, ge=1, le=100)

    @property
    def stripe_rate_per_worker(self) -> float:
        """Stripe requests per second one container of the background worker may make."""
        return self.stripe_background_rate / self.stripe_worker_concurrency

    @field_validator("plan_price_ids", "plan_monthly_prices", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) and value.strip() else value or {}


@per_container
def billing_settings() -> BillingSettings:
    return BillingSettings.model_validate({name.lower(): value for name, value in os.environ.items()})
