"""The IAM check over a recording: the calls a function really made in a test, written to a
file as `pytest --aws-calls=FILE` writes the whole run's, then evaluated from that file against
template.yaml's policies (the same evaluation that ends every test session)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.iam import Environment, Recording, check, function_policies, main
from tests.support.profile import ProfileClient
from tests.support.sam import transformed_template

pytestmark = pytest.mark.usefixtures("aws")

TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/test-AccountTable"


@pytest.fixture
def recorded(aws_calls: Callable[[], Recording], tmp_path: Path) -> Path:
    """A recording file of the profile function creating an account and reading it back."""
    ada = ProfileClient("5b0cbd9e-3c1a-4bd8-9f55-0f4c1e2d7a10")
    assert ada.create("ada_lovelace")[0] == 201
    assert ada.get()[0] == 200
    path = tmp_path / "calls.json"
    path.write_text(json.dumps(aws_calls().to_json()))
    return path


def without(transformed: dict[str, Any], role: str, action: str) -> dict[str, Any]:
    for policy in transformed["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            statement["Action"] = [a for a in actions if a != action]
    return transformed


def test_a_recorded_run_is_evaluated_from_its_file(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the calls of a real request, as a file
    recording = Recording.from_json(json.loads(recorded.read_text()))
    actions = {call.authorization.action for call in recording.calls if call.function == "ProfileFunction"}
    assert {"dynamodb:PutItem", "dynamodb:GetItem"} <= actions  # the account's transaction, its read

    # When it is evaluated against template.yaml, then nothing is missing
    assert main([str(recorded)]) == 0
    assert "0 missing permissions" in capsys.readouterr().out


def test_a_permission_the_template_lacks_fails_naming_function_action_and_resource(recorded: Path) -> None:
    # Given a template whose profile function may not put items
    transformed = without(transformed_template(), "ProfileFunctionRole", "dynamodb:PutItem")

    # When the recorded calls are evaluated against it
    report = check(Recording.from_json(json.loads(recorded.read_text())), transformed)

    # Then the check fails and says which function, action and resource
    assert not report.ok
    assert [(f.function, f.action, f.resource) for f in report.missing] == [
        ("ProfileFunction", "dynamodb:PutItem", TABLE_ARN)
    ]
    assert "dynamodb.TransactWriteItems" in report.missing[0].operations
    assert any("MISSING PERMISSIONS" in line for line in report.lines())


def test_grants_never_exercised_are_listed(recorded: Path) -> None:
    report = check(Recording.from_json(json.loads(recorded.read_text())))
    unused = {(function, grant.action) for function, grant in report.unused}
    assert ("ProfileFunction", "s3:DeleteObject") in unused  # the account was never deleted
    assert ("ProfileFunction", "dynamodb:PutItem") not in unused


def test_every_function_policy_resolves_to_the_tests_names() -> None:
    for function, policy in function_policies(Environment()).items():
        assert policy.statements, function
        for statement in policy.statements:
            for resource in statement.resources:
                assert resource.startswith("arn:aws:"), (function, resource)
                assert "${" not in resource, (function, resource)


def test_policies_resolve_to_the_names_the_functions_environment_gives() -> None:
    # Given calls made where the table and the validator's bucket carry another stack's names
    environment = Environment(
        bindings=(
            ("Ref:AccountTable", "bench-AccountTable"),
            ("Sub:${AWS::StackName}-avatars-${AWS::AccountId}", "bench-avatars-123456789012"),
        )
    )

    # Then the validator's policy names that table and that bucket, as CloudFormation would
    validator = function_policies(environment)["AvatarValidatorFunction"]
    resources = {resource for statement in validator.statements for resource in statement.resources}
    assert "arn:aws:dynamodb:eu-west-1:123456789012:table/bench-AccountTable" in resources
    assert "arn:aws:s3:::bench-avatars-123456789012/uploads/*" in resources
