"""Reading the whole table in tests, to assert what was (and was not) written."""

from __future__ import annotations

import os
from typing import Any

import boto3

from account_billing.core.table import unmarshal


def all_items() -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    pages = client.get_paginator("scan").paginate(TableName=os.environ["TABLE_NAME"], ConsistentRead=True)
    return [unmarshal(item) for page in pages for item in page["Items"]]


def key_pairs() -> set[tuple[str, str]]:
    return {(item["PK"], item["SK"]) for item in all_items()}


def item(pk: str, sk: str) -> dict[str, Any] | None:
    return next((i for i in all_items() if i["PK"] == pk and i["SK"] == sk), None)


def existing(pk: str, sk: str) -> dict[str, Any]:
    """The item at `pk`/`sk` (a test fails here if there is none)."""
    found = item(pk, sk)
    assert found is not None, f"no item {pk} / {sk}"
    return found


def expire(pk: str, sk: str) -> None:
    """Remove an item as DynamoDB's TTL does: no request of the service's is involved."""
    boto3.client("dynamodb").delete_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": pk}, "SK": {"S": sk}})
