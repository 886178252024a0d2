"""The cold-start yardstick (DESIGN §10): import boto3, create one client, make one call.

Built and run as a function is (`bench/lambda_layout.py`): the layer only, no code of ours."""

from __future__ import annotations

import os
from typing import Any

import boto3

client = boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    key = {"PK": {"S": event["pk"]}, "SK": {"S": event["sk"]}}
    found = client.get_item(TableName=os.environ["TABLE_NAME"], Key=key)
    return {"found": "Item" in found}
