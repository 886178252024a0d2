"""Stripe's request encoding: form fields with bracketed keys (`metadata[hold]=x`,
`expand[0]=latest_charge`), decoded into nested dicts and lists (`params.check` then checks
them against the endpoint's TypedDict); and readers of values an endpoint uses."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


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
    decoded: dict[str, Any] = _lists(root)
    return decoded


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
        raise invalid(f"Invalid boolean: {value}", param=name)
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
