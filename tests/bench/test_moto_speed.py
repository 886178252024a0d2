"""The capacity model's faster moto (bench/moto_speed.py) answers as moto does: a cancelled
transaction leaves nothing behind, a query finds its partition's items in order, an index query
its index partition's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from bench import moto_speed

TABLE = "capacity-speed"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "GSI1PK", "GSI1SK")
            ],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "Due",
                    "KeySchema": [
                        {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                        {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        with moto_speed.installed():
            yield client


def put(client: Any, pk: str, sk: str, **attributes: str) -> None:
    item = {"PK": {"S": pk}, "SK": {"S": sk}, **{name: {"S": value} for name, value in attributes.items()}}
    client.put_item(TableName=TABLE, Item=item)


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb: Any) -> None:
    put(dynamodb, "ACCOUNT#a", "SPEND", spent="1")
    put(dynamodb, "ACCOUNT#a", "OLD", note="kept")

    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "ACCOUNT#a"}, "SK": {"S": "SPEND"}},
                        "UpdateExpression": "SET spent = :two",
                        "ExpressionAttributeValues": {":two": {"S": "2"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "USAGE#1"}, "SK": {"S": "USAGE"}}}},
                {"Delete": {"TableName": TABLE, "Key": {"PK": {"S": "ACCOUNT#a"}, "SK": {"S": "OLD"}}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "ACCOUNT#a"}, "SK": {"S": "MISSING"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )

    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    items = dynamodb.scan(TableName=TABLE)["Items"]
    assert sorted((i["PK"]["S"], i["SK"]["S"], i.get("spent", i.get("note"))["S"]) for i in items) == [
        ("ACCOUNT#a", "OLD", "kept"),
        ("ACCOUNT#a", "SPEND", "1"),
    ]


def test_a_transaction_that_succeeds_writes_every_item(dynamodb: Any) -> None:
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"PK": {"S": f"USAGE#{n}"}, "SK": {"S": "USAGE"}}}} for n in range(3)
        ]
    )

    assert dynamodb.scan(TableName=TABLE)["Count"] == 3


def test_a_query_reads_its_partition_in_key_order(dynamodb: Any) -> None:
    for pk, sk in (("ACCOUNT#a", "EMAIL#b"), ("ACCOUNT#b", "EMAIL#a"), ("ACCOUNT#a", "EMAIL#a"), ("ACCOUNT#a", "P")):
        put(dynamodb, pk, sk)

    found = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :email)",
        ExpressionAttributeValues={":pk": {"S": "ACCOUNT#a"}, ":email": {"S": "EMAIL#"}},
        ScanIndexForward=False,
    )["Items"]

    assert [i["SK"]["S"] for i in found] == ["EMAIL#b", "EMAIL#a"]


def test_an_index_query_reads_its_index_partition_in_index_order(dynamodb: Any) -> None:
    put(dynamodb, "ACCOUNT#b", "HOLD#2", GSI1PK="HOLD#1", GSI1SK="2026-01-02")
    put(dynamodb, "ACCOUNT#a", "HOLD#1", GSI1PK="HOLD#1", GSI1SK="2026-01-01")
    put(dynamodb, "ACCOUNT#a", "HOLD#3", GSI1PK="HOLD#2", GSI1SK="2026-01-01")
    put(dynamodb, "ACCOUNT#c", "PROFILE")

    found = dynamodb.query(
        TableName=TABLE,
        IndexName="Due",
        KeyConditionExpression="GSI1PK = :pk AND GSI1SK <= :until",
        ExpressionAttributeValues={":pk": {"S": "HOLD#1"}, ":until": {"S": "2026-12-31"}},
    )["Items"]

    assert [i["SK"]["S"] for i in found] == ["HOLD#1", "HOLD#2"]


def test_moto_is_itself_again_after_the_block() -> None:
    originals = (DynamoDBBackend.transact_write_items, Table.query)

    with moto_speed.installed():
        assert (DynamoDBBackend.transact_write_items, Table.query) != originals

    assert (DynamoDBBackend.transact_write_items, Table.query) == originals
