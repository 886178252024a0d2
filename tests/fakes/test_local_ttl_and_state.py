"""The local stack's TTL sweeper and saved state, on moto without a stack: what expires and when
(the clock's offset when an item was first seen counts), and a saved state that cannot be used
is refused with a clear error rather than half restored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.state import SavedState, StateNotRestored
from local.ttl import TtlSweeper, ttl_tables

DAY = 86400


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        )
        yield client


def _put(client: Any, key: str, **attributes: Any) -> None:
    client.put_item(TableName="t", Item={"PK": {"S": key}, **attributes})


def _keys(client: Any) -> set[str]:
    return {item["PK"]["S"] for item in client.scan(TableName="t")["Items"]}


def test_only_items_whose_ttl_passed_go(dynamodb: Any) -> None:
    now = time.time()
    _put(dynamodb, "past", expires_at={"N": str(int(now - 10))})
    _put(dynamodb, "future", expires_at={"N": str(int(now + DAY))})
    _put(dynamodb, "none")
    _put(dynamodb, "text", expires_at={"S": "yesterday"})  # not a number: TTL ignores it

    deleted = TtlSweeper(dynamodb, {"t": "expires_at"}, now=time.time).sweep()

    assert deleted == 1
    assert _keys(dynamodb) == {"future", "none", "text"}


def test_an_item_written_after_the_clock_moved_keeps_its_whole_lifetime(dynamodb: Any) -> None:
    offset = [0.0]
    sweeper = TtlSweeper(dynamodb, {"t": "expires_at"}, now=lambda: time.time() + offset[0], offset=lambda: offset[0])
    _put(dynamodb, "before", expires_at={"N": str(int(time.time() + 3 * DAY))})
    sweeper.sweep()  # seen while the clock is at the machine's time
    offset[0] = 31 * DAY  # a month later
    _put(dynamodb, "after", expires_at={"N": str(int(time.time() + 3 * DAY))})  # the function's own time

    assert sweeper.sweep() == 1
    assert _keys(dynamodb) == {"after"}
    offset[0] += 3 * DAY + 60
    assert sweeper.sweep() == 1
    assert _keys(dynamodb) == set()


def test_the_template_names_which_tables_have_ttl() -> None:
    template = {
        "Resources": {
            "A": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"TimeToLiveSpecification": {"AttributeName": "x", "Enabled": True}},
            },
            "B": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"TimeToLiveSpecification": {"AttributeName": "y", "Enabled": False}},
            },
            "C": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        }
    }

    assert ttl_tables(template, {"A": "a", "B": "b", "C": "c"}) == {"a": "x"}


@pytest.mark.parametrize("manifest", ['{"version": 0}', "{not json", '{"version": 1, "clock_offset": "soon"}'])
def test_a_state_that_cannot_be_used_is_refused(tmp_path: Path, manifest: str) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "manifest.json").write_text(manifest)

    with pytest.raises(StateNotRestored):
        SavedState(tmp_path).clock_offset()


def test_without_a_saved_state_nothing_is_restored_and_reset_clears_it(tmp_path: Path) -> None:
    saved = SavedState(tmp_path)
    assert (saved.exists(), saved.clock_offset(), saved.stripe()) == (False, 0.0, None)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "manifest.json").write_text(json.dumps({"version": 1, "clock_offset": 7200}))
    assert saved.clock_offset() == 7200

    saved.clear()

    assert not (tmp_path / "state").exists()
