"""Adding a card and moving to a plan are money-moving: a retried request (same caller, same Idempotency-Key) returns
the first response and moves no money twice. Powertools Idempotency keeps the responses in the
idempotency table; a concurrent duplicate is told to retry, and the same key with another body
is refused. Declines are remembered like successes (a retry answers the same 402).

A key is scoped to the caller's account as it is now (its creation time, its generation): an
account deleted and created again under the same `sub` never replays the answers of the one
before (a card's last 4 digits, say), though Powertools keeps them until they expire."""

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

from account_billing.accounts.store import AccountStore
from account_billing.billing.cards.models import AddPaymentMethodRequest
from account_billing.billing.errors import CardDeclined, IdempotencyKeyReused, RequestInProgress
from account_billing.billing.settings import billing_settings
from account_billing.billing.stripe.results import CancellationReason
from account_billing.billing.subscriptions.models import SubscriptionView
from account_billing.core.identity import Caller
from account_billing.core.origin import acting
from account_billing.core.settings import required
from account_billing.core.wiring import per_container

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

    # The services are handed in: a function that only needs `once_per_key` (invoices) does not
    # load the card and subscription services with it.
    from account_billing.billing.cards.reverify import CardReverification
    from account_billing.billing.cards.service import CardService
    from account_billing.billing.subscriptions.service import SubscriptionService

# Stripe keeps idempotency keys for 24 hours; so do we.
KEY_LIFETIME_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Replayable:
    """A response as stored: status and JSON body."""

    status: int
    body: dict[str, Any]


def idempotency_config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[caller, generation, key]",
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
    accounts: AccountStore,
    table_name: str,
    config: IdempotencyConfig,
    client: DynamoDBClient | None = None,
) -> Callable[[Caller, dict[str, Any], str], dict[str, Any]]:
    """`operation(caller, request, request key)` run once per (caller's account, Idempotency-Key): a
    retry answers what the first call did (a decline included), the same key with another
    request body is `IdempotencyKeyReused`, and a duplicate still running is
    `RequestInProgress`. `request` and the answer are JSON-ready dicts (they are stored in the
    idempotency table). A caller with no active account is `AccountNotFound`, before any record
    is written."""
    persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

    @idempotent_function(data_keyword_argument="attempt", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def attempt_once(attempt: dict[str, Any]) -> dict[str, Any]:
        try:
            # What the operation derives from the key (a hold's id, Stripe's idempotency keys)
            # is scoped to the account's generation too: Stripe keeps keys for 24 hours.
            request_key = f"{attempt['generation']}#{attempt['key']}"
            return {"answer": operation(Caller(attempt["caller"]), attempt["request"], request_key)}
        except CardDeclined as exc:
            return {"declined": {"detail": exc.detail, **exc.extensions}}

    def run(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        generation = accounts.require_active(caller.sub, consistent=True).created_at
        attempt = {"caller": caller.sub, "generation": generation, "key": key, "request": request}
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
    accounts: AccountStore,
    table_name: str,
    config: IdempotencyConfig,
    client: DynamoDBClient | None = None,
) -> Callable[[Caller, AddPaymentMethodRequest, str], Replayable]:
    """`service.add`, once per (caller, Idempotency-Key)."""

    def add_card(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        outcome = service.add(caller, AddPaymentMethodRequest.model_validate(request), key)
        return {"status": outcome.status, "body": outcome.body.model_dump(mode="json")}

    once = once_per_key(add_card, accounts, table_name, config, client)

    def run(caller: Caller, request: AddPaymentMethodRequest, key: str) -> Replayable:
        answer = once(caller, request.model_dump(mode="json"), key)
        return Replayable(answer["status"], answer["body"])

    return run


def idempotent_reverify(
    service: CardReverification,
    accounts: AccountStore,
    table_name: str,
    config: IdempotencyConfig,
    client: DynamoDBClient | None = None,
) -> Callable[[Caller, str, str], Replayable]:
    """`service.retry` (a card's verification), once per (caller, Idempotency-Key)."""

    def reverify(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        outcome = service.retry(caller, request["payment_method_id"], key)
        return {"status": outcome.status, "body": outcome.body.model_dump(mode="json")}

    once = once_per_key(reverify, accounts, table_name, config, client)

    def run(caller: Caller, payment_method_id: str, key: str) -> Replayable:
        answer = once(caller, {"payment_method_id": payment_method_id}, key)
        return Replayable(answer["status"], answer["body"])

    return run


def idempotent_change(
    service: SubscriptionService,
    accounts: AccountStore,
    table_name: str,
    config: IdempotencyConfig,
    client: DynamoDBClient | None = None,
) -> Callable[..., SubscriptionView]:
    """`service.change`, once per (caller, Idempotency-Key)."""

    def change_plan(caller: Caller, request: dict[str, Any], key: str) -> dict[str, Any]:
        given = request.get("cancellation")
        reason = CancellationReason(given.get("feedback"), given.get("comment")) if given else None
        return service.change(caller, request["plan"], key, reason).model_dump(mode="json")

    once = once_per_key(change_plan, accounts, table_name, config, client)

    def run(caller: Caller, plan: str, key: str, cancellation: dict[str, Any] | None = None) -> SubscriptionView:
        request: dict[str, Any] = {"plan": plan, **({"cancellation": cancellation} if cancellation else {})}
        return SubscriptionView.model_validate(once(caller, request, key))

    return run
