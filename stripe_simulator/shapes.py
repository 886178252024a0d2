"""Response bodies checked against stripe-python's resource classes for the pinned API version.

A class annotates each field of its object: a plain annotation is a field that is always present
(`amount_due: int`); `Optional[...]` one that may be null, or absent (stripe-python's generated
annotations do not tell those two apart, so absence is allowed there). An object is matched to
its class by its `object` value (`"invoice"` → `stripe.Invoice`), nested hashes by the nested
classes (`Invoice.AutomaticTax`), lists by `ListObject[...]`, expandable fields (an id or the
object) by `ExpandableField[...]`. A field the class does not declare is an error too: it is
not in the pinned version. A deleted object is `{"id", "object", "deleted": true}`.
"""

from __future__ import annotations

import typing
from decimal import Decimal, InvalidOperation
from typing import Any

from stripe._list_object import ListObject
from stripe._search_result_object import SearchResultObject
from stripe._stripe_object import StripeObject

from .sdk import NoneType, error_codes, fields, is_union, nullable, resource_class

Found = list[str]  # "path: what is wrong", one a field


def problems(body: Any) -> list[str]:
    """Every field of a response body (an object, a list or an error) that the SDK's types refuse."""
    found: Found = []
    if isinstance(body, dict) and "error" in body and "object" not in body:
        _error(body["error"], "error", found)
    else:
        _object(body, None, "", found)
    return found


def _error(error: Any, path: str, found: Found) -> None:
    import stripe  # noqa: PLC0415

    _object(error, stripe.ErrorObject, path, found)
    code = error.get("code") if isinstance(error, dict) else None
    if code is not None and code not in error_codes():
        found.append(f"{path}.code: {code!r} is not an error code of the pinned version")


def _class_of(value: dict[str, Any], path: str, found: Found) -> type[StripeObject] | None:
    name = value.get("object")
    cls = resource_class(name) if isinstance(name, str) else None
    if cls is None:
        found.append(f"{path or '<body>'}: no resource class for object {name!r}")
    return cls


def _object(value: Any, cls: type[StripeObject] | None, path: str, found: Found) -> None:
    if not isinstance(value, dict):
        found.append(f"{path or '<body>'}: expected an object, got {_json_type(value)}")
        return
    if cls is None and (cls := _class_of(value, path, found)) is None:
        return
    if value.get("object") == "list" or cls is ListObject:
        _list(value, Any, path, found)
        return
    declared = fields(cls)
    if value.get("deleted") is True and "deleted" in declared:
        if set(value) != {"id", "object", "deleted"} or not isinstance(value["id"], str):
            found.append(f"{path or '<body>'}: a deleted object is exactly id, object and deleted")
        return
    found.extend(
        f"{_at(path, name)}: not a field of {cls.__qualname__} at the pinned version"
        for name in value
        if name not in declared
    )
    for name, annotation in declared.items():
        if name in value:
            _value(value[name], annotation, _at(path, name), found)
        elif not nullable(annotation):
            found.append(f"{_at(path, name)}: missing (always present in {cls.__qualname__})")
    if cls.__name__ == "Event" and isinstance(value.get("data"), dict):
        _previous_attributes(value["data"], _at(path, "data"), found)


def _previous_attributes(data: dict[str, Any], path: str, found: Found) -> None:
    """An event's previous attributes are fields of its object."""
    obj = data.get("object")
    cls = resource_class(obj["object"]) if isinstance(obj, dict) and isinstance(obj.get("object"), str) else None
    if cls is not None:
        declared = fields(cls)
        found.extend(
            f"{path}.previous_attributes.{name}: not a field of {cls.__qualname__}"
            for name in data.get("previous_attributes") or {}
            if name not in declared
        )


def _list(value: dict[str, Any], item: Any, path: str, found: Found) -> None:
    for name, kind in (("object", str), ("data", list), ("has_more", bool), ("url", str)):
        if not isinstance(value.get(name), kind):
            found.append(f"{_at(path, name)}: a list's {name} must be a {kind.__name__}")
            return
    if value["object"] not in ("list", "search_result"):
        found.append(f"{_at(path, 'object')}: {value['object']!r} is not a list")
    extra = set(value) - {"object", "data", "has_more", "url", "next_page", "total_count"}
    if extra:
        found.append(f"{path or '<body>'}: unknown list fields {sorted(extra)}")
    for index, element in enumerate(value["data"]):
        _value(element, item, f"{_at(path, 'data')}[{index}]", found)


def _value(value: Any, annotation: Any, path: str, found: Found) -> None:  # noqa: PLR0912 - one branch a type form
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        if isinstance(value, dict) and isinstance(value.get("object"), str) and resource_class(value["object"]):
            _object(value, None, path, found)
    elif is_union(annotation):
        _union(value, args, path, found)
    elif origin is typing.Literal:
        if value not in args:
            found.append(f"{path}: {value!r} is not one of {list(args)}")
    elif origin is list:
        if not isinstance(value, list):
            found.append(f"{path}: expected a list, got {_json_type(value)}")
            return
        for index, element in enumerate(value):
            _value(element, args[0] if args else Any, f"{path}[{index}]", found)
    elif origin in (ListObject, SearchResultObject):
        if not isinstance(value, dict):
            found.append(f"{path}: expected a list object, got {_json_type(value)}")
            return
        _list(value, args[0] if args else Any, path, found)
    elif origin is dict or (isinstance(origin, type) and origin.__name__ == "UntypedStripeObject"):
        _hash(value, args[-1] if args else Any, path, found)
    elif isinstance(annotation, type) and issubclass(annotation, StripeObject):
        _object(value, annotation, path, found)
    else:
        _scalar(value, annotation, path, found)


def _hash(value: Any, item: Any, path: str, found: Found) -> None:
    if not isinstance(value, dict):
        found.append(f"{path}: expected a hash, got {_json_type(value)}")
    elif isinstance(value.get("object"), str) and resource_class(value["object"]):
        _object(value, None, path, found)  # an event's object
    else:
        for key, element in value.items():
            _value(element, item, f"{path}.{key}", found)


def _union(value: Any, alternatives: tuple[Any, ...], path: str, found: Found) -> None:
    if value is None:
        if NoneType not in alternatives:
            found.append(f"{path}: null, but never null")
        return
    candidates = [alt for alt in alternatives if alt is not NoneType]
    if str in candidates and any(typing.get_origin(alt) is typing.Literal for alt in candidates):
        candidates.remove(str)  # an enum: the SDK adds `str` for values newer than its version
    if isinstance(value, dict) and isinstance(value.get("object"), str):
        named = resource_class(value["object"])
        if named is not None and named in candidates:
            _object(value, named, path, found)
            return
    attempts: list[Found] = []
    for alternative in candidates:
        mine: Found = []
        _value(value, alternative, path, mine)
        if not mine:
            return
        attempts.append(mine)
    fewest = min(len(attempt) for attempt in attempts)  # the alternative it comes closest to
    found.extend(next(attempt for attempt in attempts if len(attempt) == fewest))


def _scalar(value: Any, annotation: Any, path: str, found: Found) -> None:
    if annotation is bool:
        ok = isinstance(value, bool)
    elif annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif annotation is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif annotation is str:
        ok = isinstance(value, str)
    elif annotation is Decimal:  # decimals travel as strings
        ok = isinstance(value, str) and _decimal(value)
    else:
        found.append(f"{path}: no check for the SDK type {annotation!r}")
        return
    if not ok:
        name = getattr(annotation, "__name__", repr(annotation))
        found.append(f"{path}: expected {name}, got {_json_type(value)} {value!r}")


def _decimal(value: str) -> bool:
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", NoneType: "null"}.get(
        type(value), type(value).__name__
    )


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
