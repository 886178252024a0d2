"""Moving to a plan moves money (a subscription's first invoice, a prorated upgrade, a new
hold): a retried request (same caller, same Idempotency-Key) answers what the first did, as
adding a card does (`idempotency.py`); declines are remembered too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

from ..identity import Caller
from ..models.subscription_responses import SubscriptionView
from .idempotency import once_per_key
from .subscriptions import SubscriptionService


def idempotent_change(
    service: SubscriptionService,
    table_name: str,
    config: IdempotencyConfig,
    client: Any | None = None,
) -> Callable[[Caller, str, str], SubscriptionView]:
    """`service.change`, once per (caller, Idempotency-Key)."""

    def change_plan(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        return service.change(caller, request["plan"], key).model_dump(mode="json")

    once = once_per_key(change_plan, table_name, config, client)

    def run(caller: Caller, plan: str, key: str) -> SubscriptionView:
        return SubscriptionView.model_validate(once(caller, {"plan": plan}, key))

    return run
