"""A request's parameters checked against the TypedDict stripe-python generates for its endpoint
(`stripe.params`), nested ones included, and converted to the types it names: what Stripe does
before an endpoint runs. An unknown parameter, a missing required one or a value of the wrong
type is answered as Stripe answers it (400, `invalid_request_error`, `param` the bracketed path).

Form encoding carries strings only: an integer is `"42"`, a boolean `"true"`/`"false"`, a list
`name[0]=...`, a hash `name[key]=...`; an empty string unsets a value where the type allows it
(`Literal['']`), and only there. An enum is `Literal[...] | str` in the SDK (the `str` keeps older
code compiling when Stripe adds a value): the API itself takes only the listed values.
"""

from __future__ import annotations

import re
import typing
from decimal import Decimal, InvalidOperation
from typing import Any

import typing_extensions

from .errors import StripeAPIError, invalid
from .sdk import is_union, param_fields

_INTEGER = re.compile(r"^[+-]?\d+$")


def check(params: dict[str, Any], typed_dict: Any) -> dict[str, Any]:
    """The parameters, typed (ints, booleans, lists, hashes), or the error Stripe answers."""
    checked: dict[str, Any] = _typed_dict(params, typed_dict, "")
    return checked


def _join(prefix: str, name: str | int) -> str:
    return f"{prefix}[{name}]" if prefix else str(name)


def _is_typed_dict(annotation: Any) -> bool:
    return isinstance(annotation, type) and typing_extensions.is_typeddict(annotation)


def _typed_dict(value: Any, typed_dict: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("Invalid hash", param=path or None)
    known, required = param_fields(typed_dict)
    for name in value:
        if name not in known:
            full = _join(path, name)
            raise invalid(f"Received unknown parameter: {full}", param=full, code="parameter_unknown")
    for name in sorted(required - value.keys()):
        full = _join(path, name)
        raise invalid(f"Missing required param: {full}.", param=full, code="parameter_missing")
    return {name: _value(item, known[name], _join(path, name)) for name, item in value.items()}


def _alternatives(annotation: Any) -> tuple[Any, ...]:
    if is_union(annotation):
        return tuple(alt for arg in typing.get_args(annotation) for alt in _alternatives(arg))
    return (annotation,)


def _literals(alternatives: tuple[Any, ...]) -> list[Any]:
    return [v for alt in alternatives if typing.get_origin(alt) is typing.Literal for v in typing.get_args(alt)]


def _kind(annotation: Any) -> str:
    """How a form value of this type is written: "hash", "list" or "scalar"."""
    origin = typing.get_origin(annotation) or annotation
    if _is_typed_dict(annotation) or origin in (dict, typing.Mapping) or _untyped_object(origin):
        return "hash"
    if origin is list:
        return "list"
    return "scalar"


def _untyped_object(origin: Any) -> bool:
    return isinstance(origin, type) and origin.__name__ == "UntypedStripeObject"


def _value(value: Any, annotation: Any, path: str) -> Any:  # noqa: PLR0911
    if annotation is Any:
        return value
    alternatives = _alternatives(annotation)
    literals = _literals(alternatives)
    if value == "":
        if "" in literals:
            return ""
        raise invalid(
            f"You passed an empty string for '{path}'. We assume empty values are an attempt to unset a "
            f"parameter; however '{path}' cannot be unset. You should remove '{path}' from your request or "
            "supply a non-empty value.",
            param=path,
            code="parameter_invalid_empty",
        )
    by_kind: dict[str, list[Any]] = {}
    for alternative in alternatives:
        if typing.get_origin(alternative) is not typing.Literal:
            by_kind.setdefault(_kind(alternative), []).append(alternative)
    if isinstance(value, dict) and by_kind.get("hash"):
        return _hash(value, by_kind["hash"], path)
    if isinstance(value, dict) and by_kind.get("list") and all(key.isdigit() for key in value):
        return _value([value[key] for key in sorted(value, key=int)], annotation, path)
    if isinstance(value, list) and by_kind.get("list"):
        [item_type] = typing.get_args(by_kind["list"][0]) or (Any,)
        return [_value(item, item_type, _join(path, index)) for index, item in enumerate(value)]
    if isinstance(value, list) and by_kind.get("hash"):
        return _value({str(index): item for index, item in enumerate(value)}, annotation, path)
    if not isinstance(value, str):
        raise invalid(f"Invalid {_describe(alternatives)}", param=path)
    return _scalar(value, alternatives, literals, path)


def _hash(value: dict[str, Any], alternatives: list[Any], path: str) -> Any:
    typed = [alt for alt in alternatives if _is_typed_dict(alt)]
    if typed:
        failure: StripeAPIError | None = None
        for typed_dict in typed:  # the first shape that fits
            try:
                return _typed_dict(value, typed_dict, path)
            except StripeAPIError as exc:
                failure = failure or exc
        if len(typed) == len(alternatives) and failure is not None:
            raise failure
    free = next(alt for alt in alternatives if not _is_typed_dict(alt))
    args = typing.get_args(free)
    item_type = args[-1] if args else Any
    # A free-form hash of strings (metadata) takes "" as a value: it removes that key.
    return {
        key: item if item == "" and item_type is str else _value(item, item_type, _join(path, key))
        for key, item in value.items()
    }


def _scalar(value: str, alternatives: tuple[Any, ...], literals: list[Any], path: str) -> Any:
    named = [v for v in literals if v != ""]
    for literal in named:
        if value == (str(literal).lower() if isinstance(literal, bool) else str(literal)):
            return literal
    scalars = [alt for alt in alternatives if typing.get_origin(alt) is not typing.Literal and _kind(alt) == "scalar"]
    if int in scalars and _INTEGER.match(value):
        return int(value)
    if (float in scalars or Decimal in scalars) and _decimal(value):
        return float(value) if float in scalars else value
    if bool in scalars and value in ("true", "false"):
        return value == "true"
    if str in scalars and not named:
        return value
    if int in scalars:
        raise invalid(f"Invalid integer: {value}", param=path, code="parameter_invalid_integer")
    if float in scalars or Decimal in scalars:
        raise invalid(f"Invalid decimal: {value}", param=path)
    if bool in scalars:
        raise invalid(f"Invalid boolean: {value}", param=path)
    if named:  # an enum
        listed = ", ".join(str(v) for v in named)
        raise invalid(f"Invalid {path.rsplit('[', 1)[-1].rstrip(']')}: must be one of {listed}", param=path)
    raise invalid(f"Invalid {_describe(alternatives)}", param=path)


def _decimal(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _describe(alternatives: tuple[Any, ...]) -> str:
    kinds = {_kind(alt) for alt in alternatives if typing.get_origin(alt) is not typing.Literal}
    if kinds == {"hash"}:
        return "hash"
    if kinds == {"list"}:
        return "array"
    return "string"
