"""The Stripe gateway: the only module of the service that imports stripe.

Every call goes through one `stripe.StripeClient` with a pinned API version, typed params,
bounded network retries (stripe-python retries connection errors, 409 and 5xx with backoff) and
short timeouts; 429 answers are retried here with exponential backoff and jitter. Every request
that creates something or moves money carries an idempotency key, derived from the caller's own
record where one exists (a hold's id), so a retry never moves money twice.

The secret key comes from SSM Parameter Store (a SecureString) through Powertools Parameters,
cached. With STRIPE_MODE=simulator the client talks to the offline Stripe simulator of the
process instead (tests and the local stack): the same code runs, only the HTTP client differs.
"""

from __future__ import annotations

import importlib
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import stripe

from ..errors import CardDeclined, PaymentMethodNotFound, PaymentProviderUnavailable
from ..observability import logger
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from stripe.params import (
        CustomerCreateParams,
        InvoiceCreatePreviewParams,
        InvoiceCreatePreviewParamsSubscriptionDetailsItem,
        PaymentIntentCreateParams,
        PaymentIntentListParams,
        RefundCreateParams,
        SetupIntentCreateParams,
        SubscriptionScheduleUpdateParams,
    )

    from .settings import BillingSettings

# The API version this code was written against (stripe-python 16.1.0's own); pinned so a new
# library or account default never changes the shapes under us.
API_VERSION = "2026-10-28.endive"
MAX_NETWORK_RETRIES = 2
CONNECT_TIMEOUT, READ_TIMEOUT = 3.0, 8.0
RATE_LIMIT_ATTEMPTS = 4  # 429s: one call and three retries, 0.5 s, 1 s, 2 s apart (with jitter)
SECRET_MAX_AGE = 300  # seconds the secret key stays cached before SSM is asked again
SIMULATOR_KEY = "sk_test_simulator"

T = TypeVar("T")


class StripeRateLimited(PaymentProviderUnavailable):
    """Stripe kept answering 429 after the retries: slow down and try again later."""


@dataclass(frozen=True, slots=True)
class CardDetails:
    payment_method_id: str
    customer_id: str | None
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str | None
    funding: str | None


AuthorizationStatus = Literal["authorized", "requires_action", "captured", "canceled", "incomplete"]


@dataclass(frozen=True, slots=True)
class Authorization:
    """A hold's PaymentIntent as Stripe reports it."""

    payment_intent_id: str
    status: AuthorizationStatus
    client_secret: str | None = None


ReleaseOutcome = Literal["canceled", "refunded", "expired"]


@dataclass(frozen=True, slots=True)
class Released:
    """canceled: the PaymentIntent was cancelled by us (an authorization is voided, free);
    refunded: it had been captured and is refunded in full; expired: Stripe had already
    cancelled it (an authorization left uncaptured for seven days)."""

    outcome: ReleaseOutcome


_STATUSES: dict[str, AuthorizationStatus] = {
    "requires_capture": "authorized",
    "requires_action": "requires_action",
    "succeeded": "captured",
    "canceled": "canceled",
}


def _status(intent: stripe.PaymentIntent) -> AuthorizationStatus:
    return _STATUSES.get(intent.status, "incomplete")


def _card(pm: stripe.PaymentMethod) -> CardDetails:
    card = pm.card
    if card is None:
        raise PaymentMethodNotFound("Only cards are accepted.")
    customer = pm.customer
    return CardDetails(
        payment_method_id=pm.id,
        customer_id=customer if isinstance(customer, str) or customer is None else customer.id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        fingerprint=card.fingerprint,
        funding=card.funding,
    )


@contextmanager
def _unavailable_on_transport_errors() -> Iterator[None]:
    try:
        yield
    except stripe.RateLimitError as exc:
        raise StripeRateLimited("Stripe is rate limiting; retry later.") from exc
    except (stripe.APIConnectionError, stripe.APIError) as exc:
        logger.warning("Stripe unavailable", extra={"error": type(exc).__name__, "request_id": exc.request_id})
        raise PaymentProviderUnavailable() from exc


class StripeGateway:
    """What the service asks of Stripe, in the service's own terms."""

    def __init__(
        self,
        client: stripe.StripeClient | Callable[[], stripe.StripeClient],
        *,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limiter = limiter
        self._client = client if isinstance(client, stripe.StripeClient) else None
        self._factory = None if isinstance(client, stripe.StripeClient) else client
        self._lock = threading.Lock()
        self.sleep = sleep

    @property
    def client(self) -> stripe.StripeClient:
        """The client, built on first use (the secret key is fetched then, not at init)."""
        with self._lock:
            if self._client is None:
                if self._factory is None:
                    raise RuntimeError("no Stripe client")
                self._client = self._factory()
            return self._client

    def _call(self, request: Callable[[], T]) -> T:
        """Run one Stripe request, retrying 429s with exponential backoff and jitter."""
        for attempt in range(1, RATE_LIMIT_ATTEMPTS + 1):
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                with _unavailable_on_transport_errors():
                    result = request()
            except StripeRateLimited:
                if self.limiter is not None:
                    self.limiter.throttle()
                if attempt == RATE_LIMIT_ATTEMPTS:
                    raise
                self.sleep(0.5 * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
                continue
            if self.limiter is not None:
                self.limiter.recover()
            return result
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ customers
    def create_customer(self, account_key: str, idempotency_key: str) -> str:
        params: CustomerCreateParams = {"metadata": {"account": account_key}}
        customer = self._call(lambda: self.client.v1.customers.create(params, {"idempotency_key": idempotency_key}))
        return customer.id

    def delete_customer(self, customer_id: str) -> None:
        """Delete the customer (Stripe cancels its subscriptions with it); gone already is fine."""
        try:
            self._call(lambda: self.client.v1.customers.delete(customer_id))
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise
            logger.info("Stripe customer already deleted")

    def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> None:
        self._call(
            lambda: self.client.v1.customers.update(
                customer_id,
                {"invoice_settings": {"default_payment_method": payment_method_id}},
                {"idempotency_key": f"default-{customer_id}-{payment_method_id}-{uuid.uuid4()}"},
            )
        )

    def active_subscriptions(self, customer_id: str) -> list[str]:
        page = self._call(lambda: self.client.v1.subscriptions.list({"customer": customer_id, "limit": 100}))
        return [subscription.id for subscription in page.data]

    def cancel_subscription(self, subscription_id: str) -> None:
        try:
            self._call(lambda: self.client.v1.subscriptions.cancel(subscription_id))
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_missing":
                raise

    # ------------------------------------------------------------------ cards
    def create_setup_intent(self, customer_id: str) -> str:
        """A SetupIntent's client secret: Stripe.js collects the card with it."""
        params: SetupIntentCreateParams = {
            "customer": customer_id,
            "allowed_payment_method_types": ["card"],
            "usage": "off_session",
        }
        intent = self._call(
            lambda: self.client.v1.setup_intents.create(params, {"idempotency_key": f"setup-{uuid.uuid4()}"})
        )
        return intent.client_secret or ""

    def payment_method(self, payment_method_id: str) -> CardDetails:
        try:
            return _card(self._call(lambda: self.client.v1.payment_methods.retrieve(payment_method_id)))
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                raise PaymentMethodNotFound("No such payment method.") from exc
            raise

    def attach(self, payment_method_id: str, customer_id: str) -> CardDetails:
        """Attach a card to the customer (Stripe checks it with the issuer: `CardDeclined`)."""
        try:
            pm = self._call(
                lambda: self.client.v1.payment_methods.attach(
                    payment_method_id,
                    {"customer": customer_id},
                    {"idempotency_key": f"attach-{payment_method_id}-{customer_id}"},
                )
            )
        except stripe.CardError as exc:
            raise CardDeclined(exc.user_message or "The card was declined.", **_decline(exc)) from exc
        except stripe.InvalidRequestError as exc:
            if exc.code in ("resource_missing", "payment_method_unexpected_state"):
                raise PaymentMethodNotFound("No such payment method.") from exc
            raise
        return _card(pm)

    def detach(self, payment_method_id: str) -> None:
        """Detach a card from its customer; already detached is fine."""
        try:
            self._call(
                lambda: self.client.v1.payment_methods.detach(
                    payment_method_id, options={"idempotency_key": f"detach-{payment_method_id}"}
                )
            )
        except stripe.InvalidRequestError as exc:
            if exc.code not in ("payment_method_unexpected_state", "resource_missing"):
                raise

    # ------------------------------------------------------------------ holds
    def authorize(
        self,
        *,
        hold_id: str,
        account_key: str,
        customer_id: str,
        payment_method_id: str,
        amount: int,
        currency: str,
    ) -> Authorization:
        """Place a hold: a PaymentIntent with manual capture, confirmed with the card. The
        idempotency key is the hold's own: sending it again returns the same PaymentIntent."""
        params: PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency,
            "customer": customer_id,
            "payment_method": payment_method_id,
            "allowed_payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            "description": "Card verification: a temporary hold, released automatically",
            "metadata": {"hold_id": hold_id, "account": account_key},
        }
        try:
            intent = self._call(
                lambda: self.client.v1.payment_intents.create(params, {"idempotency_key": f"hold-{hold_id}"})
            )
        except stripe.CardError as exc:
            raise CardDeclined(exc.user_message or "The card was declined.", **_decline(exc)) from exc
        return Authorization(intent.id, _status(intent), intent.client_secret)

    def find_authorization(self, customer_id: str, hold_id: str, created_since: int) -> Authorization | None:
        """The PaymentIntent of a hold whose outcome was never recorded (a crash between Stripe's
        answer and the write), found by the hold id in its metadata. Lists are strongly
        consistent, unlike search; nothing is created, so nothing can be charged twice."""
        params: PaymentIntentListParams = {
            "customer": customer_id,
            "created": {"gte": created_since},
            "limit": 100,
        }
        page = self._call(lambda: self.client.v1.payment_intents.list(params))
        for intent in page.auto_paging_iter():
            metadata = intent.metadata
            if metadata and "hold_id" in metadata and metadata["hold_id"] == hold_id:
                return Authorization(intent.id, _status(intent), intent.client_secret)
        return None

    def authorization(self, payment_intent_id: str) -> Authorization:
        intent = self._call(lambda: self.client.v1.payment_intents.retrieve(payment_intent_id))
        return Authorization(intent.id, _status(intent), intent.client_secret)

    def release(self, payment_intent_id: str, *, hold_id: str, attempt: int) -> Released:
        """Cancel the hold's PaymentIntent (an authorization is voided, free); if it had been
        captured, refund it in full; if Stripe had already cancelled it, say so.

        The idempotency keys name the attempt: Stripe replays a saved answer for a key, errors
        included, so a later attempt must not reuse an earlier attempt's key. Cancelling twice
        is harmless (the second is refused) and refunds are capped at the captured amount.
        """
        try:
            self._call(
                lambda: self.client.v1.payment_intents.cancel(
                    payment_intent_id, options={"idempotency_key": f"hold-{hold_id}-cancel-{attempt}"}
                )
            )
            return Released("canceled")
        except stripe.InvalidRequestError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise
        status = self.authorization(payment_intent_id).status
        if status == "canceled":
            return Released("expired")
        if status != "captured":
            raise PaymentProviderUnavailable(f"The hold's PaymentIntent is {status}; retry later.")
        params: RefundCreateParams = {
            "payment_intent": payment_intent_id,
            "reason": "requested_by_customer",
            "metadata": {"hold_id": hold_id},
        }
        try:
            self._call(
                lambda: self.client.v1.refunds.create(params, {"idempotency_key": f"hold-{hold_id}-refund-{attempt}"})
            )
        except stripe.InvalidRequestError as exc:
            if exc.code != "charge_already_refunded":
                raise
        return Released("refunded")

    # ------------------------------------------------------------------ subscriptions and invoices
    # Plain dicts out (Stripe's own shapes): the subscription and invoice code reads them.
    def subscriptions_of(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's subscriptions that have not ended, as Stripe has them now."""
        page = self._call(lambda: self.client.v1.subscriptions.list({"customer": customer_id, "limit": 10}))
        return [item.to_dict() for item in page.data]

    def create_subscription(
        self, *, customer_id: str, price_id: str, account_key: str, payment_method_id: str, idempotency_key: str
    ) -> dict[str, Any]:
        """Subscribe; the first invoice is paid at once with the card or nothing is created (402)."""
        try:
            sub = self._call(
                lambda: self.client.v1.subscriptions.create(
                    {
                        "customer": customer_id,
                        "items": [{"price": price_id}],
                        "default_payment_method": payment_method_id,
                        "payment_behavior": "error_if_incomplete",
                        "metadata": {"account": account_key},
                    },
                    {"idempotency_key": idempotency_key},
                )
            )
        except stripe.CardError as exc:
            raise CardDeclined(exc.user_message or "The card was declined.", **_decline(exc)) from exc
        return sub.to_dict()

    def change_subscription_price(
        self, subscription_id: str, item_id: str, price_id: str, payment_method_id: str, idempotency_key: str
    ) -> dict[str, Any]:
        """Change the Price now, the proration invoiced and paid at once (402: nothing changes)."""
        try:
            sub = self._call(
                lambda: self.client.v1.subscriptions.update(
                    subscription_id,
                    {
                        "items": [{"id": item_id, "price": price_id}],
                        "proration_behavior": "always_invoice",
                        "payment_behavior": "error_if_incomplete",
                        "default_payment_method": payment_method_id,
                        "cancel_at_period_end": False,
                    },
                    {"idempotency_key": idempotency_key},
                )
            )
        except stripe.CardError as exc:
            raise CardDeclined(exc.user_message or "The card was declined.", **_decline(exc)) from exc
        return sub.to_dict()

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool, idempotency_key: str) -> dict[str, Any]:
        sub = self._call(
            lambda: self.client.v1.subscriptions.update(
                subscription_id, {"cancel_at_period_end": cancel}, {"idempotency_key": idempotency_key}
            )
        )
        return sub.to_dict()

    def schedule_price_change(
        self, subscription_id: str, current_price: str, new_price: str, idempotency_key: str
    ) -> dict[str, Any]:
        """A SubscriptionSchedule: the current Price until the period ends, then `new_price`."""
        schedule = self._call(
            lambda: self.client.v1.subscription_schedules.create(
                {"from_subscription": subscription_id}, {"idempotency_key": f"{idempotency_key}-schedule"}
            )
        )
        phase = schedule.phases[0]
        params: SubscriptionScheduleUpdateParams = {
            "phases": [
                {"items": [{"price": current_price}], "start_date": phase.start_date, "end_date": phase.end_date},
                {"items": [{"price": new_price}], "duration": {"interval": "month", "interval_count": 1}},
            ],
            "end_behavior": "release",
        }
        updated = self._call(
            lambda: self.client.v1.subscription_schedules.update(
                schedule.id, params, {"idempotency_key": f"{idempotency_key}-phases"}
            )
        )
        return updated.to_dict()

    def release_schedule(self, schedule_id: str) -> None:
        """Detach a schedule from its subscription (the subscription stays as it is now)."""
        try:
            self._call(lambda: self.client.v1.subscription_schedules.release(schedule_id))
        except stripe.InvalidRequestError as exc:
            if "status" not in str(exc.user_message or ""):
                raise

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._call(lambda: self.client.v1.subscriptions.retrieve(subscription_id)).to_dict()

    def schedule(self, schedule_id: str) -> dict[str, Any]:
        return self._call(lambda: self.client.v1.subscription_schedules.retrieve(schedule_id)).to_dict()

    def customer(self, customer_id: str) -> dict[str, Any]:
        return self._call(lambda: self.client.v1.customers.retrieve(customer_id)).to_dict()

    def preview_invoice(
        self,
        customer_id: str,
        *,
        price_id: str,
        subscription_id: str | None = None,
        item_id: str | None = None,
        proration_behavior: str = "none",
    ) -> dict[str, Any]:
        """Stripe's preview of the invoice a change would produce."""
        item: InvoiceCreatePreviewParamsSubscriptionDetailsItem = {"price": price_id}
        if item_id:
            item["id"] = item_id
        params: InvoiceCreatePreviewParams = {
            "customer": customer_id,
            "subscription_details": {"items": [item], "proration_behavior": proration_behavior},
        }
        if subscription_id:
            params["subscription"] = subscription_id
        return self._call(lambda: self.client.v1.invoices.create_preview(params)).to_dict()

    def invoice(self, invoice_id: str) -> dict[str, Any] | None:
        try:
            return self._call(lambda: self.client.v1.invoices.retrieve(invoice_id)).to_dict()
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                return None
            raise

    def invoices(self, customer_id: str) -> list[dict[str, Any]]:
        page = self._call(lambda: self.client.v1.invoices.list({"customer": customer_id, "limit": 100}))
        return [invoice.to_dict() for invoice in page.auto_paging_iter()]


def _decline(exc: stripe.CardError) -> dict[str, str | None]:
    error = exc.error
    return {"decline_code": error.decline_code if error else None, "code": exc.code}


# ---------------------------------------------------------------------- construction
def stripe_client(
    api_key: str,
    *,
    http_client: stripe.HTTPClient | None = None,
    max_network_retries: int = MAX_NETWORK_RETRIES,
) -> stripe.StripeClient:
    """A StripeClient with the pinned API version, bounded retries and short timeouts.
    `http_client` replaces the network (the simulator plugs in here)."""
    return stripe.StripeClient(
        api_key,
        stripe_version=API_VERSION,
        max_network_retries=max_network_retries,
        http_client=http_client or stripe.RequestsClient(timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)),
    )


def secret_key(settings: BillingSettings) -> str:
    """The Stripe secret key from SSM Parameter Store (SecureString), cached by Powertools."""
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - billing functions only

    if not settings.stripe_secret_key_parameter:
        raise RuntimeError("STRIPE_SECRET_KEY_PARAMETER is not set")
    key = parameters.get_parameter(settings.stripe_secret_key_parameter, decrypt=True, max_age=SECRET_MAX_AGE)
    if not isinstance(key, str) or not key.startswith(("sk_", "rk_")):
        raise RuntimeError("the Stripe secret key parameter does not hold a Stripe secret key")
    if settings.stripe_mode == "test" and not key.startswith(("sk_test_", "rk_test_")):
        raise RuntimeError("STRIPE_MODE=test takes a test key (sk_test_...) only")
    return key


class InvalidWebhook(Exception):
    """A webhook delivery whose signature does not verify, or is too old (replayed)."""


def verify_webhook(payload: str, signature: str, secret: str, tolerance: int) -> dict[str, Any]:
    """The event of a webhook delivery, checked with stripe-python's own signature helper
    (HMAC-SHA256 over the raw body, timestamp within `tolerance` seconds)."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise InvalidWebhook(str(exc)) from exc
    result: dict[str, Any] = event.to_dict()
    return result


def simulator_http_client() -> stripe.HTTPClient:
    """The HTTP client of this process's offline Stripe simulator (not shipped in the layer:
    only tests and the local stack have the `stripe_simulator` package)."""
    client: stripe.HTTPClient = importlib.import_module("stripe_simulator.process").http_client()
    return client


def gateway_for(settings: BillingSettings, limiter: RateLimiter | None = None) -> StripeGateway:
    """The gateway a function uses: real Stripe, or the simulator when STRIPE_MODE=simulator.
    Nothing is fetched until the first Stripe call."""
    if settings.stripe_mode == "simulator":
        return StripeGateway(lambda: stripe_client(SIMULATOR_KEY, http_client=simulator_http_client()), limiter=limiter)
    return StripeGateway(lambda: stripe_client(secret_key(settings)), limiter=limiter)
