"""Stripe's request encoding: form fields with bracketed keys (`metadata[hold]=x`,
`expand[0]=latest_charge`), decoded into nested dicts and lists, and checked against what an
endpoint accepts."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")

# An endpoint's accepted parameters: a name maps to ANY (a scalar, or free-form like metadata)
# or to the spec of a nested hash. Lists are checked element by element against the same spec.
ANY: None = None
Spec = dict[str, Any]


def decode(text: str | bytes | None) -> dict[str, Any]:
    """`a[b][0]=1&a[b][1]=2&c=` → `{"a": {"b": ["1", "2"]}, "c": ""}`."""
    if not text:
        return {}
    if isinstance(text, bytes):
        text = text.decode()
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if not match:
            raise invalid(f"Invalid parameter name: {raw_key}", param=raw_key)
        path = [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])]
        node: dict[str, Any] = root
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid parameter: {raw_key}", param=raw_key)
            node = child
        node[path[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    """Hashes whose keys are 0..n-1 become lists."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        indices = sorted(converted, key=int)
        if [int(i) for i in indices] == list(range(len(indices))):
            return [converted[i] for i in indices]
    return converted


def check(params: dict[str, Any], spec: Spec, prefix: str = "") -> None:
    """Reject parameters the endpoint does not know, as Stripe does."""
    for name, value in params.items():
        full = f"{prefix}[{name}]" if prefix else name
        if name not in spec:
            raise invalid(f"Received unknown parameter: {full}", param=full, code="parameter_unknown")
        nested = spec[name]
        if nested is None:
            continue
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if item == "":
                continue
            if not isinstance(item, dict):
                raise invalid(f"Invalid hash for parameter {full}", param=full, code="parameter_invalid_empty")
            check(item, nested, f"{full}[{index}]" if isinstance(value, list) else full)


def integer(params: dict[str, Any], name: str, *, required: bool = False, minimum: int | None = None) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {value}", param=name, code="parameter_invalid_integer") from None
    if minimum is not None and number < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", param=name)
    return number


def boolean(params: dict[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value in (None, ""):
        return default
    if value not in ("true", "false", True, False):
        raise invalid(f"Invalid boolean: {value}", param=name, code="parameter_invalid_boolean")
    return value in ("true", True)


def string(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {name}", param=name)
    return value


def metadata(params: dict[str, Any], current: dict[str, str] | None = None) -> dict[str, str]:
    """Stripe's metadata update: keys set to "" are removed; at most 50 keys."""
    result = dict(current or {})
    given = params.get("metadata")
    if given in (None, ""):
        return {} if given == "" else result
    if not isinstance(given, dict):
        raise invalid("Invalid hash", param="metadata")
    for key, value in given.items():
        if value == "":
            result.pop(key, None)
        else:
            result[key] = str(value)
    if len(result) > 50:
        raise invalid("Metadata can have at most 50 keys.", param="metadata")
    return result
