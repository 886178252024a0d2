"""Typed records of stored items: each feature declares its records as frozen dataclasses whose
fields are the item's attributes, and converts them with these two functions (statuses, declared
as `StrEnum`s, are parsed and written as their values)."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from enum import Enum, StrEnum
from typing import Any, Union, get_args, get_origin, get_type_hints

from account_billing.core.keys import Key

_ENUM_FIELDS: dict[type[Any], dict[str, type[StrEnum]]] = {}


def _enums(cls: type[Any]) -> dict[str, type[StrEnum]]:
    """The fields of `cls` typed as a StrEnum (or an optional one), worked out once per class."""
    if cls not in _ENUM_FIELDS:
        found = {}
        for name, hint in get_type_hints(cls).items():
            options = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)
            enum = next((o for o in options if isinstance(o, type) and issubclass(o, StrEnum)), None)
            if enum is not None:
                found[name] = enum
        _ENUM_FIELDS[cls] = found
    return _ENUM_FIELDS[cls]


def from_item[R](cls: type[R], item: Mapping[str, Any], **given: Any) -> R:
    """A record of type `cls` from a stored item: each field from the attribute of its name
    (absent: the field's default), or from `given` (what the item's key says, say)."""
    enums = _enums(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in given:
            values[field.name] = given[field.name]
        elif field.name in item:
            value = item[field.name]
            values[field.name] = enums[field.name](value) if field.name in enums and value is not None else value
    return cls(**values)


def to_item(record: Any, key: Key, entity: str, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The item of `record` at `key`: its fields (but `leave_out`) as attributes, statuses as their
    values; fields that are None are not written."""
    attributes = {
        field.name: getattr(record, field.name) for field in dataclasses.fields(record) if field.name not in leave_out
    }
    return {
        **key,
        "entity": entity,
        **{name: value.value if isinstance(value, Enum) else value for name, value in attributes.items()},
    }
