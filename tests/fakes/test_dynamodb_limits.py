"""DynamoDB's documented limits, each with a request DynamoDB refuses and one it accepts; and the
hook that answers a refusal as DynamoDB does, on every client of the process."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from account_billing.core.table import Table
from tests.support.dynamodb_limits import (
    MAX_ITEM_BYTES,
    Violation,
    check_request,
    item_size,
    reserved_words,
)

SCHEMA = {"accounts": ("PK", "SK")}


def schema(table: str) -> tuple[str, ...] | None:
    return SCHEMA.get(table)


def refused(operation: str, params: dict[str, Any]) -> str:
    with pytest.raises(Violation) as caught:
        check_request(operation, params, schema)
    return str(caught.value)


def accepted(operation: str, params: dict[str, Any]) -> None:
    check_request(operation, params, schema)


def key(pk: str = "ACCOUNT#1", sk: str = "PROFILE") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def values(count: int) -> dict[str, Any]:
    return {f":v{i}": {"S": str(i)} for i in range(count)}


def query(condition: str, names: dict[str, str] | None = None, vals: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": "accounts",
        "KeyConditionExpression": "PK = :pk",
        "FilterExpression": condition,
    }
    params["ExpressionAttributeValues"] = {":pk": {"S": "ACCOUNT#1"}, **(vals or {})}
    if names:
        params["ExpressionAttributeNames"] = names
    return params


# ------------------------------------------------------------------ IN


def test_in_takes_at_most_100_operands() -> None:
    operands = ", ".join(f":v{i}" for i in range(101))
    assert "too many operands; number of operands: 101" in refused(
        "Query", query(f"#s IN ({operands})", {"#s": "status"}, values(101))
    )
    accepted("Query", query(f"#s IN ({operands.rsplit(', ', 1)[0]})", {"#s": "status"}, values(100)))


def test_in_with_no_operands_is_a_syntax_error() -> None:
    assert "Syntax error" in refused("Query", query("#s IN ()", {"#s": "status"}))
    accepted("Query", query("#s IN (:v0)", {"#s": "status"}, values(1)))


# ------------------------------------------------------------------ transactions and batches


def put(pk: str, sk: str = "PROFILE") -> dict[str, Any]:
    return {"Put": {"TableName": "accounts", "Item": {**key(pk, sk), "n": {"N": "1"}}}}


def test_a_transaction_holds_at_most_100_actions() -> None:
    assert "less than or equal to 100" in refused(
        "TransactWriteItems", {"TransactItems": [put(f"ACCOUNT#{i}") for i in range(101)]}
    )
    accepted("TransactWriteItems", {"TransactItems": [put(f"ACCOUNT#{i}") for i in range(100)]})


def test_a_transaction_never_acts_twice_on_one_item() -> None:
    check = {
        "ConditionCheck": {
            "TableName": "accounts",
            "Key": key("ACCOUNT#1"),
            "ConditionExpression": "attribute_exists(PK)",
        }
    }
    message = refused("TransactWriteItems", {"TransactItems": [put("ACCOUNT#1"), check]})
    assert message == "Transaction request cannot include multiple operations on one item"
    accepted("TransactWriteItems", {"TransactItems": [put("ACCOUNT#1"), put("ACCOUNT#1", "EMAIL#a")]})


def test_a_transactional_read_holds_at_most_100_items_and_each_once() -> None:
    get = [{"Get": {"TableName": "accounts", "Key": key(f"ACCOUNT#{i}")}} for i in range(101)]
    assert "less than or equal to 100" in refused("TransactGetItems", {"TransactItems": get})
    assert "multiple operations on one item" in refused("TransactGetItems", {"TransactItems": [get[0], get[0]]})
    accepted("TransactGetItems", {"TransactItems": get[:100]})


def test_a_batch_write_holds_at_most_25_requests_without_duplicates() -> None:
    deletes = [{"DeleteRequest": {"Key": key(f"ACCOUNT#{i}")}} for i in range(26)]
    assert "less than or equal to 25" in refused("BatchWriteItem", {"RequestItems": {"accounts": deletes}})
    assert "duplicates" in refused("BatchWriteItem", {"RequestItems": {"accounts": [deletes[0], deletes[0]]}})
    accepted("BatchWriteItem", {"RequestItems": {"accounts": deletes[:25]}})


def test_a_batch_read_asks_for_at_most_100_keys_without_duplicates() -> None:
    keys = [key(f"ACCOUNT#{i}") for i in range(101)]
    assert refused("BatchGetItem", {"RequestItems": {"accounts": {"Keys": keys}}}) == (
        "Too many items requested for the BatchGetItem call"
    )
    assert "duplicates" in refused("BatchGetItem", {"RequestItems": {"accounts": {"Keys": [keys[0], keys[0]]}}})
    accepted("BatchGetItem", {"RequestItems": {"accounts": {"Keys": keys[:100]}}})


# ------------------------------------------------------------------ item size


def test_item_size_is_counted_as_dynamodb_documents_it() -> None:
    assert item_size({"name": {"S": "abc"}}) == 4 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 3 + 1  # 5 significant digits: 3 bytes, + 1
    assert item_size({"n": {"N": "1000"}}) == 1 + 1 + 1  # trailing zeroes trimmed
    assert item_size({"b": {"B": "AAEC"}}) == 1 + 3  # raw bytes, not base64
    assert item_size({"t": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    assert item_size({"l": {"L": []}}) == 1 + 3
    assert item_size({"l": {"L": [{"S": "ab"}, {"S": "c"}]}}) == 1 + 3 + (1 + 2) + (1 + 1)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"s": {"SS": ["ab", "c"]}}) == 1 + 3


def test_an_item_is_at_most_400_kb() -> None:
    overhead = item_size({**key(), "blob": {"S": ""}})
    exact = {**key(), "blob": {"S": "x" * (MAX_ITEM_BYTES - overhead)}}
    accepted("PutItem", {"TableName": "accounts", "Item": exact})
    over = {**key(), "blob": {"S": "x" * (MAX_ITEM_BYTES - overhead + 1)}}
    assert (
        refused("PutItem", {"TableName": "accounts", "Item": over}) == "Item size has exceeded the maximum allowed size"
    )
    assert "Item size" in refused(
        "TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "accounts", "Item": over}}]}
    )


def test_an_update_that_alone_writes_over_400_kb_is_refused() -> None:
    update = {
        "TableName": "accounts",
        "Key": key(),
        "UpdateExpression": "SET #b = :b",
        "ExpressionAttributeNames": {"#b": "blob"},
        "ExpressionAttributeValues": {":b": {"S": "x" * MAX_ITEM_BYTES}},
    }
    assert "Item size to update" in refused("UpdateItem", update)


# ------------------------------------------------------------------ expressions


def test_an_expression_is_at_most_4_kb() -> None:
    long_path = ".".join(["#a"] * 1366)  # 4097 bytes
    params = {
        "TableName": "accounts",
        "Key": key(),
        "ProjectionExpression": long_path,
        "ExpressionAttributeNames": {"#a": "a"},
    }
    assert "Expression size has exceeded" in refused("GetItem", params)
    params["ProjectionExpression"] = ".".join(["#a"] * 1365)  # 4094 bytes
    accepted("GetItem", params)


@pytest.mark.parametrize(
    ("kind", "expression"),
    [
        ("ConditionExpression", "attribute_not_exists(owner)"),
        ("ConditionExpression", "status = :v0"),
        ("UpdateExpression", "SET #n = :v0, name = :v0"),
        ("UpdateExpression", "REMOVE data"),
        ("ProjectionExpression", "PK, size"),
        ("ConditionExpression", "profile.comment = :v0"),
    ],
)
def test_reserved_words_are_refused_unless_through_a_placeholder(kind: str, expression: str) -> None:
    params: dict[str, Any] = {"TableName": "accounts", "Key": key(), kind: expression}
    if "#n" in expression:
        params["ExpressionAttributeNames"] = {"#n": "n"}
    if ":v0" in expression:
        params["ExpressionAttributeValues"] = values(1)
    assert "reserved keyword" in refused("UpdateItem" if kind == "UpdateExpression" else "DeleteItem", params)


@pytest.mark.parametrize(
    ("kind", "expression"),
    [
        ("ConditionExpression", "attribute_not_exists(#owner) AND begins_with(SK, :v0)"),
        ("ConditionExpression", "#status IN (:v0) OR NOT attribute_exists(PK)"),
        ("ConditionExpression", "version BETWEEN :v0 AND :v0"),
        ("UpdateExpression", "SET #status = if_not_exists(#status, :v0) REMOVE pending ADD clicks :v0"),
        ("UpdateExpression", "SET items_left = list_append(items_left, :v0) DELETE tags :v0"),
        ("ProjectionExpression", "PK, SK, #status"),
    ],
)
def test_keywords_functions_and_placeholders_are_not_reserved_words(kind: str, expression: str) -> None:
    params: dict[str, Any] = {"TableName": "accounts", "Key": key(), kind: expression}
    names = {n: n[1:] for n in ("#owner", "#status") if n in expression}
    if names:
        params["ExpressionAttributeNames"] = names
    if ":v0" in expression:
        params["ExpressionAttributeValues"] = values(1)
    accepted("UpdateItem" if kind == "UpdateExpression" else "DeleteItem", params)


def test_the_reserved_words_are_dynamodbs_list() -> None:
    words = reserved_words()
    assert len(words) > 500
    assert {"STATUS", "NAME", "DATA", "OWNER", "SIZE", "COMMENT"} <= words
    assert "PK" not in words


def test_placeholders_must_be_defined_and_used() -> None:
    base = {"TableName": "accounts", "Key": key(), "ConditionExpression": "#o = :o"}
    assert "attribute name: #o" in refused("DeleteItem", {**base, "ExpressionAttributeValues": {":o": {"S": "a"}}})
    assert "attribute value: :o" in refused("DeleteItem", {**base, "ExpressionAttributeNames": {"#o": "owner"}})
    both = {**base, "ExpressionAttributeNames": {"#o": "owner"}, "ExpressionAttributeValues": {":o": {"S": "a"}}}
    accepted("DeleteItem", both)
    extra_name = {**both, "ExpressionAttributeNames": {"#o": "owner", "#x": "x"}}
    assert (
        refused("DeleteItem", extra_name)
        == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"
    )
    extra_value = {**both, "ExpressionAttributeValues": {":o": {"S": "a"}, ":x": {"S": "b"}}}
    assert (
        refused("DeleteItem", extra_value)
        == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"
    )


def test_placeholders_are_checked_in_each_transaction_action() -> None:
    action = {
        "Delete": {
            "TableName": "accounts",
            "Key": key(),
            "ConditionExpression": "#o = :o",
            "ExpressionAttributeValues": {":o": {"S": "a"}},
        }
    }
    assert "attribute name: #o" in refused("TransactWriteItems", {"TransactItems": [action]})


# ------------------------------------------------------------------ the hook, on moto


@pytest.mark.usefixtures("aws")
def test_a_violation_reaches_the_caller_as_dynamodbs_validation_exception_and_writes_nothing() -> None:
    client = boto3.client("dynamodb")
    table = os.environ["TABLE_NAME"]
    item = {**key(), "status": {"S": "open"}}
    with pytest.raises(ClientError) as caught:
        client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(status)")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "reserved keyword; reserved keyword: status" in caught.value.response["Error"]["Message"]
    assert "Item" not in client.get_item(TableName=table, Key=key())


@pytest.mark.usefixtures("aws")
def test_the_table_wrapper_is_held_to_the_limits_too() -> None:
    table = Table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
    with pytest.raises(ClientError, match="multiple operations on one item"):
        table.transact(
            [
                {"Put": {"Item": {**key(), "v": {"N": "1"}}}},
                {"Delete": {"Key": key()}},
            ]
        )
    assert table.get({"PK": "ACCOUNT#1", "SK": "PROFILE"}) is None
    table.transact([{"Put": {"Item": {**key(), "v": {"N": "1"}}}}])
    assert table.get({"PK": "ACCOUNT#1", "SK": "PROFILE"}) == {"PK": "ACCOUNT#1", "SK": "PROFILE", "v": 1}
