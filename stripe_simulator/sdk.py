"""What stripe-python's generated code says about the API version it pins, read from the code
itself: the endpoint a `StripeClient` call requests and the TypedDict of its parameters, the
fields of every resource class, the event types and the error codes.

Everything here is read once, when first needed, and cached: a service's method names its HTTP
method and path in its body (`self._request("post", "/v1/...".format(...))`) and annotates its
`params` with a TypedDict of `stripe.params`; a resource class annotates its fields (a plain
annotation: always present; `Optional[...]`: null, or absent). The generated modules import the
names their annotations use only under `TYPE_CHECKING`, so those imports are run here to resolve
the annotations.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import textwrap
import types
import typing
from dataclasses import dataclass
from typing import Any

import stripe
from stripe._api_version import _ApiVersion
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject
from stripe._stripe_service import StripeService
from stripe._v1_services import V1Services

API_VERSION: str = _ApiVersion.CURRENT  # the version stripe-python's types describe
NoneType = type(None)


def is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


class NotSimulated(Exception):
    """A request the simulator cannot answer as Stripe would (an endpoint it does not simulate,
    another API version): a gap in the simulator, never an answer of Stripe's."""


@functools.cache
def _namespace(module_name: str) -> dict[str, Any]:
    """A generated module's globals plus the names it imports only for type checking."""
    module = importlib.import_module(module_name)
    namespace = dict(vars(module))
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            code = compile(ast.Module(body=node.body, type_ignores=[]), module.__file__ or module_name, "exec")
            exec(code, namespace)  # noqa: S102 - the SDK's own import statements
    return namespace


@functools.cache
def hints(owner: Any) -> dict[str, Any]:
    """The resolved annotations of a generated class or function (NotRequired stripped)."""
    return typing.get_type_hints(owner, globalns=_namespace(owner.__module__))


@functools.cache
def param_fields(typed_dict: Any) -> tuple[dict[str, Any], frozenset[str]]:
    """A params TypedDict's parameters (name → annotation) and the required ones. Many of them
    extend `RequestOptions` (for the `**params` style of the resource classes): those keys are
    request options, not parameters."""
    from stripe._request_options import RequestOptions  # noqa: PLC0415

    globalns = {**_namespace(RequestOptions.__module__), **_namespace(typed_dict.__module__)}
    resolved = typing.get_type_hints(typed_dict, globalns=globalns)
    options = RequestOptions.__annotations__
    own = {
        name: annotation
        for name, annotation in resolved.items()
        if not (name in options and typed_dict.__annotations__[name] is options[name])
    }
    return own, frozenset(typed_dict.__required_keys__) & own.keys()


# ---------------------------------------------------------------------- requests
@dataclass(frozen=True)
class Endpoint:
    call: str  # the StripeClient call, e.g. "v1.subscription_schedules.update"
    method: str  # "POST"
    template: str  # "/v1/subscription_schedules/{schedule}"
    params: Any  # the TypedDict of its parameters

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"\{(\w+)\}", self.template)
        regex = "".join(re.escape(part) if i % 2 == 0 else "([^/]+)" for i, part in enumerate(parts))
        return re.compile(regex)

    @property
    def placeholders(self) -> int:
        return self.template.count("{")


def _request_of(function: Any) -> tuple[str, str]:
    """The HTTP method and path template a service method passes to `self._request`."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "_request":
            method, path = node.args[0], node.args[1]
            if isinstance(path, ast.Call) and isinstance(path.func, ast.Attribute):  # "...".format(...)
                path = path.func.value
            if isinstance(method, ast.Constant) and isinstance(path, ast.Constant):
                return str(method.value).upper(), str(path.value)
    raise LookupError(f"{function.__qualname__} makes no request")


def _unwrap_optional(annotation: Any) -> Any:
    if is_union(annotation):
        rest = [a for a in typing.get_args(annotation) if a is not NoneType]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _service_method(call: str) -> Any:
    root, *path, name = call.split(".")
    if root != "v1" or not path:
        raise ValueError(f"not a v1 StripeClient call: {call!r}")
    owner: Any = V1Services
    for attribute in path:
        owner = hints(owner)[attribute]
    return getattr(owner, name)


@functools.cache
def endpoint(call: str) -> Endpoint:
    """The endpoint that `client.<call>(...)` requests, e.g. `endpoint("v1.invoices.create_preview")`."""
    function = _service_method(call)
    method, template = _request_of(function)
    return Endpoint(call, method, template, _unwrap_optional(hints(function)["params"]))


def _services(owner: Any, prefix: str) -> typing.Iterator[tuple[str, Any]]:
    for name, annotation in hints(owner).items():
        if isinstance(annotation, type) and issubclass(annotation, StripeService):
            yield f"{prefix}.{name}", annotation
            yield from _services(annotation, f"{prefix}.{name}")


@functools.cache
def all_endpoints() -> dict[tuple[str, str], str]:
    """(method, template) → call, for every v1 endpoint of the SDK (read only when a request
    matches none of the simulated ones: slow, and cached)."""
    table: dict[tuple[str, str], str] = {}
    for prefix, service in _services(V1Services, "v1"):
        for name, function in vars(service).items():
            if name.startswith("_") or name.endswith("_async") or not inspect.isfunction(function):
                continue
            try:
                table.setdefault(_request_of(function), f"{prefix}.{name}")
            except LookupError:
                continue
    return table


def stripe_knows(method: str, path: str) -> str | None:
    """The SDK call of a request path that no simulated route answers, if Stripe has one."""
    for (known_method, template), call in all_endpoints().items():
        if known_method == method and Endpoint(call, method, template, None).pattern.fullmatch(path):
            return call
    return None


# ---------------------------------------------------------------------- resources
@functools.cache
def resource_class(object_name: str) -> type[StripeObject] | None:
    """The class of an API object by its `object` value ("invoice" → stripe.Invoice)."""
    entry = OBJECT_CLASSES.get(object_name)
    if entry is None:
        return None
    module, name = entry
    cls: type[StripeObject] = getattr(importlib.import_module(module), name)
    return cls


@functools.cache
def _base_fields() -> frozenset[str]:
    return frozenset(hints(StripeObject))


def fields(cls: type[StripeObject]) -> dict[str, Any]:
    """JSON field name → annotation, as a resource (or nested) class declares them."""
    return _fields(typing.cast(Any, cls))  # classes are hashable; StripeObject's stub says otherwise


@functools.cache
def _fields(cls: Any) -> dict[str, Any]:
    remapped: dict[str, str] = getattr(cls, "_field_remappings", {})
    return {
        remapped.get(name, name): annotation
        for name, annotation in hints(cls).items()
        if not name.startswith("_") and name not in _base_fields() and name != "OBJECT_NAME"
    }


def nullable(annotation: Any) -> bool:
    return is_union(annotation) and NoneType in typing.get_args(annotation)


def _literal_values(annotation: Any) -> frozenset[str]:
    found: set[str] = set()
    for arg in typing.get_args(annotation) or ():
        if typing.get_origin(arg) is typing.Literal:
            found.update(str(value) for value in typing.get_args(arg))
        else:
            found.update(_literal_values(arg))
    if typing.get_origin(annotation) is typing.Literal:
        found.update(str(value) for value in typing.get_args(annotation))
    return frozenset(found)


@functools.cache
def event_types() -> frozenset[str]:
    """Every event type of the pinned version (`Event.type`)."""
    return _literal_values(fields(stripe.Event)["type"])


@functools.cache
def webhook_event_types() -> frozenset[str]:
    """What a webhook endpoint can subscribe to (`enabled_events`, "*" included)."""
    from stripe.params import WebhookEndpointCreateParams  # noqa: PLC0415

    return _literal_values(param_fields(WebhookEndpointCreateParams)[0]["enabled_events"])


@functools.cache
def error_codes() -> frozenset[str]:
    """Every error `code` Stripe documents at the pinned version (the generated `code` of a
    PaymentIntent's last payment error lists them all)."""
    return _literal_values(fields(stripe.PaymentIntent.LastPaymentError)["code"])
