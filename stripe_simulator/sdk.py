"""What stripe-python's generated code says about the API version it pins, read from the code
itself: the endpoint a `StripeClient` call requests and the TypedDict of its parameters, the
fields of every resource class, the event types and the error codes.

Everything here is read once, when first needed, and cached: a service's method names its HTTP
method and path in its body (`self._request("post", "/v1/...".format(...))`) and annotates its
`params` with a TypedDict of `stripe.params`; a resource class annotates its fields (a plain
annotation: always present; `Optional[...]`: null, or absent). The generated modules import the
names their annotations use only under `TYPE_CHECKING`: those imports are read from the source,
and the ones an annotation names are made here to resolve it (a TypedDict's module, often large,
is imported when its endpoint is first requested).
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
from dataclasses import dataclass, field
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
def _deferred_imports(module_name: str) -> dict[str, tuple[str, str]]:
    """name → (module, attribute) of what a generated module imports only for type checking."""
    module = importlib.import_module(module_name)
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
                    found.update(
                        {alias.asname or alias.name: (statement.module, alias.name) for alias in statement.names}
                    )
    return found


_NAME = re.compile(r"[A-Za-z_]\w*")


def _names(annotation: Any) -> set[str]:
    """The names an annotation's unevaluated parts (strings, forward references) use."""
    if isinstance(annotation, str):
        return set(_NAME.findall(annotation))
    if isinstance(annotation, typing.ForwardRef):
        return set(_NAME.findall(annotation.__forward_arg__))
    return {name for arg in typing.get_args(annotation) for name in _names(arg)}


def _namespace(owner: Any) -> dict[str, Any]:
    """The globals to resolve `owner`'s annotations with: its module's, plus those of its type
    checking imports that the annotations name (imported now, and only those: importing every
    one would load most of the SDK)."""
    annotations: dict[str, Any] = dict(getattr(owner, "__annotations__", {}))
    for cls in owner.__mro__ if isinstance(owner, type) else ():
        annotations.update(vars(cls).get("__annotations__", {}))
    namespace = dict(vars(importlib.import_module(owner.__module__)))
    deferred = _deferred_imports(owner.__module__)
    for name in set().union(*map(_names, annotations.values())) & deferred.keys():
        module, attribute = deferred[name]
        namespace[name] = getattr(importlib.import_module(module), attribute)
    return namespace


@functools.cache
def hints(owner: Any) -> dict[str, Any]:
    """The resolved annotations of a generated class or function (NotRequired stripped)."""
    return typing.get_type_hints(owner, globalns=_namespace(owner))


@functools.cache
def _hint(owner: Any, name: str) -> Any:
    """One resolved annotation of a class (the others are left alone)."""
    one = types.SimpleNamespace(__annotations__={name: owner.__annotations__[name]}, __module__=owner.__module__)
    return typing.get_type_hints(one, globalns=_namespace(one))[name]


@functools.cache
def param_fields(typed_dict: Any) -> tuple[dict[str, Any], frozenset[str]]:
    """A params TypedDict's parameters (name → annotation) and the required ones. Many of them
    extend `RequestOptions` (for the `**params` style of the resource classes): those keys are
    request options, not parameters."""
    from stripe._request_options import RequestOptions  # noqa: PLC0415

    globalns = {**_namespace(RequestOptions), **_namespace(typed_dict)}
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
    function: Any = field(compare=False, repr=False)  # the service's method

    @functools.cached_property
    def params(self) -> Any:
        """The TypedDict of its parameters (its module is imported when first needed)."""
        return _unwrap_optional(hints(self.function)["params"])

    @property
    def pattern(self) -> re.Pattern[str]:
        return path_pattern(self.template)

    @property
    def placeholders(self) -> int:
        return self.template.count("{")


@functools.cache
def path_pattern(template: str) -> re.Pattern[str]:
    """`/v1/customers/{customer}` → a regex matching its paths, one group a path parameter."""
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(part) if i % 2 == 0 else "([^/]+)" for i, part in enumerate(parts)))


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
        owner = _hint(owner, attribute)
    return getattr(owner, name)


@functools.cache
def endpoint(call: str) -> Endpoint:
    """The endpoint that `client.<call>(...)` requests, e.g. `endpoint("v1.invoices.create_preview")`."""
    function = _service_method(call)
    method, template = _request_of(function)
    return Endpoint(call, method, template, function)


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
        if known_method == method and path_pattern(template).fullmatch(path):
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
