"""Moving to a plan moves money (a subscription's first invoice, a prorated upgrade, a new
hold): a retried request (same caller, same Idempotency-Key) answers what the first did, as
adding a card does (`idempotency.py`); declines are remembered too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from ..errors import CardDeclined, IdempotencyKeyReused, RequestInProgress
from ..identity import Caller
from ..models.subscription_responses import SubscriptionView
from .subscriptions import SubscriptionService


def idempotent_change(
    service: SubscriptionService,
    table_name: str,
    config: IdempotencyConfig,
    client: Any | None = None,
) -> Callable[[Caller, str, str], SubscriptionView]:
    """`service.change`, once per (caller, Idempotency-Key)."""
    persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

    @idempotent_function(data_keyword_argument="attempt", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def change_plan(attempt: dict[str, Any]) -> dict[str, Any]:
        try:
            view = service.change(Caller(attempt["caller"]), attempt["request"]["plan"], attempt["key"])
        except CardDeclined as exc:
            return {"declined": {"detail": exc.detail, **exc.extensions}}
        return {"body": view.model_dump(mode="json")}

    def run(caller: Caller, plan: str, key: str) -> SubscriptionView:
        attempt = {"caller": caller.sub, "key": key, "request": {"plan": plan}}
        try:
            result = change_plan(attempt=attempt)
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReused("This Idempotency-Key was already used with another request body.") from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise RequestInProgress() from exc
        if "declined" in result:
            declined = dict(result["declined"])
            raise CardDeclined(declined.pop("detail"), **declined)
        return SubscriptionView.model_validate(result["body"])

    return run
