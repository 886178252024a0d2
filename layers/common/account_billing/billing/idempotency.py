"""Adding a card and moving to a plan are money-moving: a retried request (same caller, same Idempotency-Key) returns
the first response and moves no money twice. Powertools Idempotency keeps the responses in the
idempotency table; a concurrent duplicate is told to retry, and the same key with another body
is refused. Declines are remembered like successes (a retry answers the same 402)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from account_billing.billing.cards.models import AddPaymentMethodRequest
from account_billing.billing.cards.service import CardService
from account_billing.billing.errors import CardDeclined, IdempotencyKeyReused, RequestInProgress
from account_billing.billing.settings import billing_settings
from account_billing.billing.subscriptions.models import SubscriptionView
from account_billing.billing.subscriptions.service import SubscriptionService
from account_billing.core.identity import Caller
from account_billing.core.origin import acting
from account_billing.core.settings import required
from account_billing.core.wiring import per_container

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

# Stripe keeps idempotency keys for 24 hours; so do we.
KEY_LIFETIME_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Replayable:
    """A response as stored: status and JSON body."""

    status: int
    body: dict[str, Any]


def idempotency_config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[caller, key]",
        payload_validation_jmespath="request",
        expires_after_seconds=KEY_LIFETIME_SECONDS,
        raise_on_no_idempotency_key=True,
    )


@per_container
def idempotency() -> IdempotencyConfig:
    """This container's idempotency configuration (Lambda's context is registered on it)."""
    return idempotency_config()


def idempotency_table_name() -> str:
    return required(billing_settings().idempotency_table_name, "IDEMPOTENCY_TABLE_NAME")


def once_per_key(
    operation: Callable[[Caller, dict[str, Any], str], dict[str, Any]],
    table_name: str,
    config: IdempotencyConfig,
    client: DynamoDBClient | None = None,
) -> Callable[[Caller, dict[str, Any], str], dict[str, Any]]:
    """`operation(caller, request, key)` run once per (caller, Idempotency-Key): a retry answers
    what the first call did (a decline included), the same key with another request body is
    `IdempotencyKeyReused`, and a duplicate still running is `RequestInProgress`. `request` and
    the answer are JSON-ready dicts (they are stored in the idempotency table)."""
    persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

    @idempotent_function(data_keyword_argument="attempt", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def attempt_once(attempt: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"answer": operation(Caller(attempt["caller"]), attempt["request"], attempt["key"])}
        except CardDeclined as exc:
            return {"declined": {"detail": exc.detail, **exc.extensions}}

    def run(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        attempt = {"caller": caller.sub, "key": key, "request": request}
        try:
            with acting(caller.origin) if caller.origin else contextlib.nullcontext():  # the activity log's origin
                result = attempt_once(attempt=attempt)
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReused("This Idempotency-Key was already used with another request body.") from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise RequestInProgress() from exc
        if "declined" in result:
            declined = dict(result["declined"])
            raise CardDeclined(declined.pop("detail"), **declined)
        answer: dict[str, Any] = result["answer"]
        return answer

    return run


def idempotent_add(
    service: CardService,
    table_name: str,
    config: IdempotencyConfig,
    client: DynamoDBClient | None = None,
) -> Callable[[Caller, AddPaymentMethodRequest, str], Replayable]:
    """`service.add`, once per (caller, Idempotency-Key)."""

    def add_card(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        outcome = service.add(caller, AddPaymentMethodRequest.model_validate(request), key)
        return {"status": outcome.status, "body": outcome.body.model_dump(mode="json")}

    once = once_per_key(add_card, table_name, config, client)

    def run(caller: Caller, request: AddPaymentMethodRequest, key: str) -> Replayable:
        answer = once(caller, request.model_dump(mode="json"), key)
        return Replayable(answer["status"], answer["body"])

    return run


def idempotent_change(
    service: SubscriptionService,
    table_name: str,
    config: IdempotencyConfig,
    client: DynamoDBClient | None = None,
) -> Callable[[Caller, str, str], SubscriptionView]:
    """`service.change`, once per (caller, Idempotency-Key)."""

    def change_plan(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        return service.change(caller, request["plan"], key).model_dump(mode="json")

    once = once_per_key(change_plan, table_name, config, client)

    def run(caller: Caller, plan: str, key: str) -> SubscriptionView:
        return SubscriptionView.model_validate(once(caller, {"plan": plan}, key))

    return run
