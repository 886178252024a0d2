"""The simulator: its objects, the request pipeline (authentication, faults, parameter checks,
idempotency, routing) and the events it emits."""

from __future__ import annotations

import hashlib
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from . import forms, params, sdk
from .clock import Clock
from .errors import StripeAPIError
from .resources import ROUTES, Route
from .webhooks import WebhookEndpoint, WebhookQueue

API_VERSION = sdk.API_VERSION  # the version stripe-python's types describe, the only one simulated
IDEMPOTENCY_WINDOW = 24 * 3600  # Stripe keeps a key's result for at least 24 hours
_ALPHABET = string.ascii_letters + string.digits


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    request_id: str


@dataclass
class Call:
    """One request the simulator answered (or failed on purpose), for assertions."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    status: int | None  # None: a simulated timeout before the request reached Stripe
    replayed: bool = False
    fault: str | None = None
    response: Any = None  # the body answered, as JSON has it (when the simulator records)


@dataclass
class StripeFault:
    """A failure to inject: `rate_limit` (429), `api_error` (500), `timeout` (the request never
    arrives) or `timeout_after` (Stripe acts, then the response is lost)."""

    kind: str
    method: str | None = None
    path: str | None = None  # a prefix of the request path, e.g. "/v1/payment_intents"
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))


@dataclass
class _Saved:
    method: str
    path: str
    fingerprint: str
    status: int
    body: dict[str, Any]
    expires: float


class SimulatedTimeout(Exception):
    """The connection timed out (the HTTP client turns it into stripe's APIConnectionError)."""


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class Simulator:
    """A stateful fake of Stripe's API, thread-safe (requests run one at a time, as if each
    were atomic at Stripe), with latency that overlaps between threads like network time."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        latency: float = 0.0,
        api_keys: Iterable[str] = (),
        record: bool = False,
    ) -> None:
        """`record`: keep a copy of every body answered in `calls` (for checks of the shapes)."""
        self.clock = clock or Clock()
        self.latency = latency
        self.record = record
        self.api_keys = set(api_keys)  # empty: any sk_test_/rk_test_ key is accepted
        self.objects: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.faults: list[StripeFault] = []
        self.webhooks = WebhookQueue(self)
        self._saved: dict[tuple[str, str], _Saved] = {}
        self._lock = threading.RLock()
        self._routes: list[Route] = list(ROUTES)
        self._table: list[tuple[sdk.Endpoint, Route]] | None = None
        self._fingerprint_salt = secrets.token_hex(8)
        self._private: dict[str, dict[str, Any]] = {}
        self._sequence: dict[str, int] = {}
        self._current: Request | None = None
        # (expiry time, PaymentIntent id) of every authorization awaiting capture
        self.expiry_heap: list[tuple[int, str]] = []
        # where the files Stripe hosts (statements) are served: set by `SimulatorServer`
        self.files_base: str | None = None
        # Where 3-D Secure challenges are hosted (the local stack serves its own test page)
        self.hooks_base = "https://hooks.stripe.com"

    # ------------------------------------------------------------------ wiring
    def http_client(self) -> Any:
        """A stripe-python HTTP client that answers from this simulator."""
        from .http_client import SimulatorHTTPClient  # noqa: PLC0415 - it imports stripe

        return SimulatorHTTPClient(self)

    def add_routes(self, routes: Iterable[Route]) -> None:
        """More endpoints (later resources plug in here)."""
        with self._lock:
            self._routes.extend(routes)
            self._table = None

    def add_webhook_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.webhooks.endpoints.append(endpoint)
        return endpoint

    def inject(self, kind: str, *, method: str | None = None, path: str | None = None, times: int = 1) -> StripeFault:
        if kind not in ("rate_limit", "api_error", "timeout", "timeout_after"):
            raise ValueError(f"unknown fault {kind!r}")
        fault = StripeFault(kind, method.upper() if method else None, path, times)
        with self._lock:
            self.faults.append(fault)
        return fault

    # ------------------------------------------------------------------ state helpers
    def new_id(self, prefix: str, length: int = 24) -> str:
        return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"

    def now(self) -> int:
        return self.clock.now()

    def save(self, obj: dict[str, Any]) -> dict[str, Any]:
        self._sequence.setdefault(obj["id"], len(self._sequence))
        self.objects[obj["id"]] = obj
        return obj

    def sequence(self, identifier: str) -> int:
        """Creation order (objects created in the same second keep their order in lists)."""
        return self._sequence.get(identifier, 0)

    def private(self, identifier: str) -> dict[str, Any]:
        """What the simulator knows of an object that Stripe does not show (the card number...)."""
        return self._private.setdefault(identifier, {})

    def get(self, identifier: str, kind: str) -> dict[str, Any] | None:
        obj = self.objects.get(identifier)
        return obj if obj is not None and obj["object"] == kind else None

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects.values() if obj["object"] == kind]

    def fingerprint(self, number: str) -> str:
        """The same card number always has the same fingerprint (within this simulator)."""
        digest = hashlib.sha256(f"{self._fingerprint_salt}:{number}".encode()).digest()
        return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:16])

    def emit(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record an event about `obj` (a snapshot) and queue it for the webhook endpoints."""
        if event_type not in sdk.event_types():
            raise ValueError(f"{event_type!r} is not an event type of API version {API_VERSION}")
        data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
        if previous:
            data["previous_attributes"] = previous
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": len(self.webhooks.endpoints),
            "request": {
                "id": self._current.request_id if self._current else None,
                "idempotency_key": self._current.idempotency_key if self._current else None,
            },
            "type": event_type,
        }
        self.save(event)
        self.webhooks.enqueue(event)
        return event

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.all("event") if event_type is None or e["type"] == event_type]

    def calls_to(self, method: str, path_prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    # ------------------------------------------------------------------ the pipeline
    def handle(self, method: str, url: str, headers: dict[str, str], body: Any) -> Response:
        """Answer one HTTP request as Stripe would. Raises SimulatedTimeout for timeouts."""
        if self.latency:
            time.sleep(self.latency)  # outside the lock: network time overlaps between callers
        parts = urlsplit(url)
        method = method.upper()
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        with self._lock:
            self._expire_authorizations()
            key = headers.get("idempotency-key") if method in ("POST", "DELETE") else None
            params_text = body if method in ("POST",) else parts.query
            fault = self._take_fault(method, parts.path)
            if fault is not None and fault.kind != "timeout_after":
                self.calls.append(Call(method, parts.path, {}, key, _FAULT_STATUS[fault.kind], fault=fault.kind))
                if fault.kind == "timeout":
                    raise SimulatedTimeout()
                return _fault_response(fault.kind)
            response = self._respond(method, parts.path, params_text, headers, key)
            if fault is not None:
                self.calls[-1].fault = fault.kind
                raise SimulatedTimeout()
            return response

    def _respond(self, method: str, path: str, params_text: Any, headers: dict[str, str], key: str | None) -> Response:
        request_id = self.new_id("req", 14)
        call = Call(method, path, {}, key, None)
        self.calls.append(call)
        try:
            self._authenticate(headers.get("authorization", ""))
            self._version(headers.get("stripe-version"))
            raw = forms.decode(params_text)
            call.params = raw
            route, path_params = self._route(method, path)
            checked = params.check(raw, route.endpoint.params)
        except StripeAPIError as exc:
            call.status = exc.status
            return self._answer(call, exc.status, exc.body(), {"Request-Id": request_id})
        fingerprint = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
        if key is not None:
            saved = self._saved.get(("idem", key))
            if saved is not None and saved.expires > self.clock.time():
                if (saved.method, saved.path, saved.fingerprint) != (method, path, fingerprint):
                    call.status = 400
                    error = StripeAPIError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        f"first used with. Try using a key other than '{key}' if you meant to execute a "
                        "different request.",
                        type="idempotency_error",
                    )
                    return self._answer(call, 400, error.body(), {"Request-Id": request_id})
                call.status, call.replayed = saved.status, True
                headers_out = {"Request-Id": request_id, "Idempotent-Replayed": "true", "Idempotency-Key": key}
                return self._answer(call, saved.status, saved.body, headers_out)
        self._current = Request(method, path, checked, key, request_id)
        try:
            body = route.handler(self, checked, *path_params)
            status = 200
            body = self._expand(body, checked.get("expand"))
        except StripeAPIError as exc:
            status, body = exc.status, exc.body()
        finally:
            self._current = None
        call.status = status
        if key is not None:
            expires = self.clock.time() + IDEMPOTENCY_WINDOW
            self._saved[("idem", key)] = _Saved(
                method, path, fingerprint, status, json.loads(json.dumps(body)), expires
            )
        out = {"Request-Id": request_id, "Stripe-Version": API_VERSION}
        if key is not None:
            out["Idempotency-Key"] = key
        return self._answer(call, status, body, out)

    def _answer(self, call: Call, status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
        if self.record:
            call.response = json.loads(json.dumps(body))
        return Response(status, body, headers)

    def _authenticate(self, authorization: str) -> None:
        token = authorization.removeprefix("Bearer ").strip()
        if not token.startswith(("sk_test_", "rk_test_")) or (self.api_keys and token not in self.api_keys):
            raise StripeAPIError(401, "Invalid API Key provided.", type="invalid_request_error")

    @staticmethod
    def _version(requested: str | None) -> None:
        if requested not in (None, API_VERSION):
            raise sdk.NotSimulated(
                f"Stripe-Version {requested}: the simulator speaks {API_VERSION} only (stripe-python's types)"
            )

    def _route(self, method: str, path: str) -> tuple[Route, list[str]]:
        """The simulated endpoint of a request, and its path parameters. Where two templates
        match (`/v1/invoices/create_preview`, `/v1/invoices/{invoice}`), the literal one wins."""
        if self._table is None:
            table = [(route.endpoint, route) for route in self._routes]
            self._table = sorted(table, key=lambda pair: pair[0].placeholders)
        for endpoint, route in self._table:
            if endpoint.method == method and (match := endpoint.pattern.fullmatch(path)):
                return route, [unquote_plus(value) for value in match.groups()]
        known = sdk.stripe_knows(method, path)
        if known is not None:
            raise sdk.NotSimulated(f"{method} {path} is Stripe's {known}, which the simulator does not simulate")
        raise StripeAPIError(404, f"Unrecognized request URL ({method}: {path}).", type="invalid_request_error")

    def _take_fault(self, method: str, path: str) -> StripeFault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.matches(method, path):
                fault.times -= 1
                return fault
        return None

    def _expand(self, body: dict[str, Any], expand: Any) -> dict[str, Any]:
        if not expand:
            return body
        body = dict(body)
        for path in expand if isinstance(expand, list) else [expand]:
            name = str(path).split(".")[0]
            value = body.get(name)
            if isinstance(value, str) and value in self.objects:
                body[name] = self.objects[value]
        return body

    def _expire_authorizations(self) -> None:
        """Card networks release an uncaptured authorization after seven days: Stripe then
        cancels the PaymentIntent (cancellation_reason "automatic")."""
        from .resources.payment_intents import expire_uncaptured  # noqa: PLC0415
        from .resources.subscription_changes import renew_due  # noqa: PLC0415

        expire_uncaptured(self)
        renew_due(self)  # periods that ended: renewals, scheduled changes, cancellations

    # ------------------------------------------------------------------ test helpers
    def run(self, action: Callable[[], Any]) -> Any:
        """Run a state change outside any request, atomically (test helpers use it)."""
        with self._lock:
            return action()

    def authenticate(self, payment_intent_id: str, *, succeed: bool = True) -> dict[str, Any]:
        """The customer completes (or fails) 3-D Secure for a PaymentIntent in `requires_action`,
        as Stripe.js would in the browser; the events follow (payment_intent.amount_capturable_
        updated for a manual-capture hold)."""
        from .resources.payment_intents import authenticate  # noqa: PLC0415

        return authenticate(self, payment_intent_id, succeed=succeed)

    def tick(self) -> None:
        """Apply what the clock made due (expired authorizations, subscription periods that
        ended) without waiting for the next request."""
        with self._lock:
            self._expire_authorizations()

    def advance(self, delta: Any) -> None:
        """Move the simulator's clock forward (a timedelta or seconds); authorizations left
        uncaptured for seven days expire on the next request."""
        self.clock.advance(delta)


_FAULT_STATUS = {"rate_limit": 429, "api_error": 500, "timeout": None, "timeout_after": None}


def _fault_response(kind: str) -> Response:
    if kind == "rate_limit":
        error = StripeAPIError(
            429,
            "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
            type="invalid_request_error",
            code="rate_limit",
        )
        return Response(429, error.body(), {"Request-Id": "req_fault"})
    error = StripeAPIError(500, "An unknown error occurred", type="api_error")
    return Response(500, error.body(), {"Request-Id": "req_fault"})
