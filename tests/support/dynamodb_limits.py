"""DynamoDB's documented request limits, checked on every DynamoDB request the tests make.

moto enforces some of these, differently or not at all (an empty `IN ()` even answers an HTML
500 in some paths). A botocore `before-call` hook on the dynamodb service sees every request
(the code's Table wrapper, Powertools' idempotency layer, test setup) as it goes on the wire
and answers a violation the way DynamoDB does: HTTP 400 `ValidationException`, raised by the
client as a `ClientError`, nothing written.

The limits are those of the DynamoDB developer guide ("Constraints in Amazon DynamoDB":
expression parameters, transactions, API-specific constraints; "DynamoDB item sizes and
formats" for how an item's size is counted; 1 KB = 1024 bytes). The reserved words are
DynamoDB's documented list as moto ships it (`moto/dynamodb/parsing/reserved_keywords.txt`,
a copy of the developer guide's "Reserved words in DynamoDB"); botocore does not carry it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import moto.dynamodb.parsing
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from local.config import ACCOUNT_ID

MAX_ITEM_BYTES = 400 * 1024
MAX_EXPRESSION_BYTES = 4 * 1024
MAX_PLACEHOLDER_BYTES = 255
MAX_SUBSTITUTION_BYTES = 2 * 1024 * 1024
MAX_IN_OPERANDS = 100
MAX_TRANSACTION_ACTIONS = 100
MAX_BATCH_WRITE = 25
MAX_BATCH_GET = 100

EXPRESSIONS = (
    "KeyConditionExpression",
    "ConditionExpression",
    "FilterExpression",
    "UpdateExpression",
    "ProjectionExpression",
)
_CONDITION_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN"}
_UPDATE_CLAUSES = {"SET", "REMOVE", "ADD", "DELETE"}
_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>\d+)|(?P<op><>|<=|>=|[=<>(),.\[\]+\-]))"
)


class Violation(Exception):
    """A request DynamoDB would refuse with a ValidationException."""


@cache
def reserved_words() -> frozenset[str]:
    path = Path(moto.dynamodb.parsing.__file__).parent / "reserved_keywords.txt"
    return frozenset(line.strip().upper() for line in path.read_text().splitlines() if line.strip())


# ------------------------------------------------------------------ item size


def _list_size(items: list[Any]) -> int:
    return 3 + sum(1 + attribute_value_size(item) for item in items)  # 3 bytes, + 1 per element


def _map_size(entries: Mapping[str, Any]) -> int:
    return 3 + sum(1 + len(name.encode()) + attribute_value_size(item) for name, item in entries.items())


_VALUE_SIZES: dict[str, Callable[[Any], int]] = {
    "S": lambda data: len(str(data).encode()),
    "N": lambda data: _number_size(str(data)),
    "B": lambda data: len(_raw_bytes(data)),
    "BOOL": lambda _data: 1,
    "NULL": lambda _data: 1,
    "SS": lambda data: sum(len(str(item).encode()) for item in data),
    "NS": lambda data: sum(_number_size(str(item)) for item in data),
    "BS": lambda data: sum(len(_raw_bytes(item)) for item in data),
    "L": _list_size,
    "M": _map_size,
}


def attribute_value_size(value: Mapping[str, Any]) -> int:
    """Size of one attribute value (without its name) as DynamoDB counts it."""
    ((kind, data),) = value.items()
    size = _VALUE_SIZES.get(kind)
    if size is None:
        raise Violation(f"Supplied AttributeValue has an unknown type: {kind}")
    return size(data)


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size: the UTF-8 lengths of its attribute names plus its values' sizes."""
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in item.items())


def _number_size(text: str) -> int:
    """1 byte per two significant digits (leading and trailing zeroes trimmed), plus 1."""
    digits = Decimal(text).normalize().as_tuple().digits
    significant = len("".join(map(str, digits)).strip("0")) or 1
    return (significant + 1) // 2 + 1


def _raw_bytes(data: Any) -> bytes:
    return data if isinstance(data, bytes) else base64.b64decode(data)


# ------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Token:
    kind: str  # name, value, word, number, op
    text: str


def tokens(expression: str) -> list[Token]:
    found = []
    position = 0
    while position < len(expression):
        if expression[position:].strip() == "":
            break
        match = _TOKEN.match(expression, position)
        if match is None:
            raise Violation(f"Invalid expression: Syntax error; token: {expression[position:].split(maxsplit=1)[0]!r}")
        kind = match.lastgroup or "op"
        found.append(Token(kind, match[kind]))
        position = match.end()
    return found


def _attribute_words(kind: str, found: list[Token]) -> Iterator[str]:
    """The bare words of an expression that name attributes (not keywords or functions)."""
    for index, token in enumerate(found):
        if token.kind != "word":
            continue
        after = found[index + 1] if index + 1 < len(found) else None
        before = found[index - 1] if index else None
        if after is not None and after.text == "(":
            continue  # a function: attribute_exists(...), size(...), if_not_exists(...)
        word = token.text.upper()
        if kind not in ("UpdateExpression", "ProjectionExpression") and word in _CONDITION_KEYWORDS:
            continue
        if kind == "UpdateExpression" and word in _UPDATE_CLAUSES and _starts_clause(before, after):
            continue
        yield token.text


def _starts_clause(before: Token | None, after: Token | None) -> bool:
    """SET/REMOVE/ADD/DELETE open a clause at the start or after a complete action, and are
    followed by a path."""
    opens = before is None or before.kind in ("name", "value", "word", "number") or before.text in (")", "]")
    if before is not None and before.kind == "word" and before.text.upper() in _UPDATE_CLAUSES:
        opens = False
    return opens and after is not None and after.kind in ("name", "word")


def _in_operand_counts(found: list[Token]) -> Iterator[int]:
    for index, token in enumerate(found):
        if token.kind == "word" and token.text.upper() == "IN" and index + 1 < len(found):
            if found[index + 1].text != "(":
                continue
            depth, operands, seen = 0, 0, False
            for inner in found[index + 1 :]:
                if inner.text == "(":
                    depth += 1
                    continue
                if inner.text == ")":
                    depth -= 1
                    if depth == 0:
                        break
                    continue
                if depth == 1 and inner.text == ",":
                    operands += 1
                    seen = False
                    continue
                seen = True
            yield operands + (1 if seen else 0)


def _check_expression(kind: str, expression: str, names: Mapping[str, str], values: Mapping[str, Any]) -> list[Token]:
    size = len(expression.encode())
    if size > MAX_EXPRESSION_BYTES:
        raise Violation(
            f"Invalid {kind}: Expression size has exceeded the maximum allowed size; expression size: {size}"
        )
    found = tokens(expression)
    for word in _attribute_words(kind, found):
        if word.upper() in reserved_words():
            raise Violation(f"Invalid {kind}: Attribute name is a reserved keyword; reserved keyword: {word}")
    for count in _in_operand_counts(found):
        if count == 0:
            raise Violation(f'Invalid {kind}: Syntax error; token: ")", near: "()"')
        if count > MAX_IN_OPERANDS:
            raise Violation(
                f"Invalid {kind}: The IN operator is provided with too many operands; number of operands: {count}"
            )
    for token in found:
        if token.kind == "name" and token.text not in names:
            raise Violation(
                f"Invalid {kind}: An expression attribute name used in the document path is not defined; "
                f"attribute name: {token.text}"
            )
        if token.kind == "value" and token.text not in values:
            raise Violation(
                f"Invalid {kind}: An expression attribute value used in expression is not defined; "
                f"attribute value: {token.text}"
            )
    return found


def check_expressions(request: Mapping[str, Any]) -> None:
    """One request's (or one transaction action's) expressions and their substitutions."""
    names: Mapping[str, str] = request.get("ExpressionAttributeNames") or {}
    values: Mapping[str, Any] = request.get("ExpressionAttributeValues") or {}
    used: set[str] = set()
    for kind in EXPRESSIONS:
        if (expression := request.get(kind)) is not None:
            used.update(token.text for token in _check_expression(kind, expression, names, values))
    for placeholder in [*names, *values]:
        if len(placeholder.encode()) > MAX_PLACEHOLDER_BYTES:
            raise Violation(f"ExpressionAttribute placeholder is too long: {placeholder[:20]}...")
    for provided, kind in ((names, "Names"), (values, "Values")):
        if unused := sorted(set(provided) - used):
            raise Violation(
                f"Value provided in ExpressionAttribute{kind} unused in expressions: keys: {{{', '.join(unused)}}}"
            )
    substitutions = sum(len(n.encode()) + len(v.encode()) for n, v in names.items()) + sum(
        len(v.encode()) + attribute_value_size(value) for v, value in values.items()
    )
    if substitutions > MAX_SUBSTITUTION_BYTES:
        raise Violation("Expression attribute names and values exceed the maximum allowed size of 2 MB")


# ------------------------------------------------------------------ requests

KeySchema = Callable[[str], tuple[str, ...] | None]


def _item(item: Mapping[str, Any], *, update: bool = False) -> None:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        what = "Item size to update" if update else "Item size"
        raise Violation(f"{what} has exceeded the maximum allowed size")


def _identity(table: str, body: Mapping[str, Any], key_schema: KeySchema) -> str | None:
    """A stable identity of the item an action targets, or None when it cannot be known."""
    key = body.get("Key")
    if key is None and "Item" in body:
        attributes = key_schema(table)
        if attributes is None:
            return None
        key = {name: body["Item"].get(name) for name in attributes}
    return json.dumps([table, key], sort_keys=True) if key is not None else None


def _transaction(params: Mapping[str, Any], key_schema: KeySchema) -> None:
    actions = params.get("TransactItems", [])
    if len(actions) > MAX_TRANSACTION_ACTIONS:
        raise Violation(
            f"1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_TRANSACTION_ACTIONS}"
        )
    seen: set[str] = set()
    for action in actions:
        for kind, body in action.items():
            check_expressions(body)
            if kind == "Put":
                _item(body["Item"])
            elif kind == "Update":
                _item({**body["Key"], **(body.get("ExpressionAttributeValues") or {})}, update=True)
            identity = _identity(body["TableName"], body, key_schema)
            if identity is not None and identity in seen:
                raise Violation("Transaction request cannot include multiple operations on one item")
            if identity is not None:
                seen.add(identity)


def _batch_write(params: Mapping[str, Any], key_schema: KeySchema) -> None:
    requests = [(table, request) for table, entries in params.get("RequestItems", {}).items() for request in entries]
    if len(requests) > MAX_BATCH_WRITE:
        raise Violation(
            f"1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
            f"Map value must satisfy constraint: [Member must have length less than or equal to {MAX_BATCH_WRITE}]"
        )
    seen: set[str] = set()
    for table, request in requests:
        body = request.get("PutRequest") or request.get("DeleteRequest") or {}
        if "PutRequest" in request:
            _item(body["Item"])
        identity = _identity(table, body, key_schema)
        if identity is not None and identity in seen:
            raise Violation("Provided list of item keys contains duplicates")
        if identity is not None:
            seen.add(identity)


def _batch_get(params: Mapping[str, Any]) -> None:
    keys = [(table, key) for table, spec in params.get("RequestItems", {}).items() for key in spec.get("Keys", [])]
    if len(keys) > MAX_BATCH_GET:
        raise Violation("Too many items requested for the BatchGetItem call")
    identities = [json.dumps([table, key], sort_keys=True) for table, key in keys]
    if len(set(identities)) != len(identities):
        raise Violation("Provided list of item keys contains duplicates")
    for spec in params.get("RequestItems", {}).values():
        check_expressions(spec)


def check_request(operation: str, params: Mapping[str, Any], key_schema: KeySchema) -> None:
    """Raise `Violation` if DynamoDB would refuse `operation` with `params` (wire shape)."""
    if operation in ("TransactWriteItems", "TransactGetItems"):
        _transaction(params, key_schema)
        return
    if operation == "BatchWriteItem":
        _batch_write(params, key_schema)
        return
    if operation == "BatchGetItem":
        _batch_get(params)
        return
    check_expressions(params)
    if operation == "PutItem":
        _item(params["Item"])
    elif operation == "UpdateItem":
        # The result's size needs the stored item; what the request itself writes bounds it.
        _item({**params["Key"], **(params.get("ExpressionAttributeValues") or {})}, update=True)


# ------------------------------------------------------------------ the hook


def moto_key_schema(region: str) -> KeySchema:
    """The key attributes of a table in moto (in-process, or a local stack's server in this
    process); None for a table moto does not hold."""

    def lookup(table: str) -> tuple[str, ...] | None:
        from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415 -- moto's state, read when needed

        try:
            found = dynamodb_backends[ACCOUNT_ID][region].tables.get(table.rsplit("/", 1)[-1])
        except KeyError:
            return None
        return tuple(found.table_key_attrs) if found is not None else None

    return lookup


def before_call(model: Any, params: Mapping[str, Any], context: Mapping[str, Any], **_: Any) -> Any:
    """botocore `before-call.dynamodb`: a violation answers as DynamoDB does, without sending."""
    body = params.get("body") or b"{}"
    request = json.loads(body.decode() if isinstance(body, bytes) else body)
    try:
        check_request(model.name, request, moto_key_schema(str(context.get("client_region") or "")))
    except Violation as violation:
        headers = HTTPHeaders.from_dict({"x-amzn-ErrorType": "ValidationException"})
        response = AWSResponse(params.get("url", ""), 400, headers, None)
        parsed = {
            "Error": {"Code": "ValidationException", "Message": str(violation)},
            "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}, "RetryAttempts": 0},
        }
        return response, parsed
    return None


_HANDLER: tuple[str, Callable[..., Any]] = ("before-call.dynamodb", before_call)


def install() -> None:
    """Check every DynamoDB request of every botocore session from now on (and of boto3's
    default session if it exists already)."""
    if _HANDLER in botocore.handlers.BUILTIN_HANDLERS:
        return
    botocore.handlers.BUILTIN_HANDLERS.append(_HANDLER)
    if boto3.DEFAULT_SESSION is not None:
        boto3.DEFAULT_SESSION._session.register(*_HANDLER)
