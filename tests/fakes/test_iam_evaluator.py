"""The IAM evaluator and the operation → authorization map, on small policies and requests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.iam import Call, Environment, Recording, decide, resource_matches, statements
from tests.support.iam_actions import (
    PER_ITEM,
    TRANSACTION_ITEM_ACTIONS,
    Authorization,
    NotAuthorizable,
    action_for_operation,
    authorizations,
    privilege,
)

REGION = "eu-west-1"
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/accounts"
BUCKET = "arn:aws:s3:::avatars"


def policy(*statement: dict[str, Any]) -> list[Any]:
    return statements("test", {"Version": "2012-10-17", "Statement": list(statement)})


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# ------------------------------------------------------------------ evaluation


def test_an_allow_on_the_action_and_resource_allows() -> None:
    decision = decide(policy(allow("dynamodb:GetItem", TABLE)), Authorization("dynamodb:GetItem", TABLE))
    assert decision.allowed


def test_nothing_granted_is_an_implicit_deny() -> None:
    decision = decide(policy(allow("dynamodb:GetItem", TABLE)), Authorization("dynamodb:BatchGetItem", TABLE))
    assert not decision.allowed
    assert decision.denied_by == []


def test_an_allow_on_another_resource_does_not_allow() -> None:
    other = TABLE.replace("accounts", "idempotency")
    assert not decide(policy(allow("dynamodb:GetItem", other)), Authorization("dynamodb:GetItem", TABLE)).allowed


def test_an_explicit_deny_wins_over_an_allow() -> None:
    rules = policy(
        allow("dynamodb:*", "*"),
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE},
    )
    decision = decide(rules, Authorization("dynamodb:DeleteItem", TABLE))
    assert not decision.allowed
    assert [s.effect for s in decision.denied_by] == ["Deny"]
    assert decide(rules, Authorization("dynamodb:GetItem", TABLE)).allowed


@pytest.mark.parametrize(
    ("pattern", "action", "allowed"),
    [
        ("dynamodb:*", "dynamodb:Query", True),
        ("dynamodb:Get*", "dynamodb:GetItem", True),
        ("dynamodb:get?tem", "dynamodb:GetItem", True),  # action names ignore case
        ("dynamodb:Get*", "dynamodb:Query", False),
        ("s3:*", "dynamodb:Query", False),
    ],
)
def test_actions_match_with_wildcards(pattern: str, action: str, allowed: bool) -> None:
    assert decide(policy(allow(pattern, "*")), Authorization(action, TABLE)).allowed is allowed


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        (f"{BUCKET}/uploads/*", f"{BUCKET}/uploads/u1/a.jpg", True),
        (f"{BUCKET}/uploads/*", f"{BUCKET}/avatars/u1/a.jpg", False),
        (f"{TABLE}/index/*", f"{TABLE}/index/HoldsDue", True),
        (TABLE, f"{TABLE}/index/HoldsDue", False),  # a table grant does not cover its indexes
        ("arn:aws:dynamodb:*:123456789012:table/accounts", TABLE, True),
        ("arn:aws:dynamodb:eu-*:*:table/accounts", TABLE, True),
        ("arn:aws:s3:::Avatars", BUCKET, False),  # resources are case-sensitive
    ],
)
def test_resources_match_component_by_component(pattern: str, arn: str, matches: bool) -> None:
    assert resource_matches(pattern, arn) is matches


def test_not_action_and_not_resource() -> None:
    rules = policy({"Effect": "Allow", "NotAction": "dynamodb:DeleteItem", "NotResource": f"{TABLE}/index/*"})
    assert decide(rules, Authorization("dynamodb:GetItem", TABLE)).allowed
    assert not decide(rules, Authorization("dynamodb:DeleteItem", TABLE)).allowed
    assert not decide(rules, Authorization("dynamodb:Query", f"{TABLE}/index/HoldsDue")).allowed


def test_a_condition_on_a_key_the_request_sets_is_evaluated() -> None:
    rules = policy(allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["avatars/*"]}}))
    listing = Authorization("s3:ListBucket", BUCKET, (("s3:prefix", "avatars/u1/"),))
    assert decide(rules, listing).allowed
    assert not decide(rules, Authorization("s3:ListBucket", BUCKET, (("s3:prefix", "uploads/"),))).allowed
    assert not decide(rules, Authorization("s3:ListBucket", BUCKET)).allowed  # no prefix: the whole bucket


def test_a_condition_on_a_key_it_cannot_evaluate_does_not_match_and_says_so() -> None:
    rules = policy(allow("dynamodb:GetItem", TABLE, Condition={"StringEquals": {"aws:PrincipalTag/team": "a"}}))
    decision = decide(rules, Authorization("dynamodb:GetItem", TABLE))
    assert not decision.allowed
    assert decision.unevaluated == ["test[0]: condition key aws:PrincipalTag/team"]


def test_pass_role_is_allowed_only_to_the_named_service() -> None:
    role = "arn:aws:iam::123456789012:role/scheduler"
    rules = policy(
        allow("iam:PassRole", role, Condition={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}})
    )
    assert decide(
        rules, Authorization("iam:PassRole", role, (("iam:PassedToService", "scheduler.amazonaws.com"),))
    ).allowed
    assert not decide(
        rules, Authorization("iam:PassRole", role, (("iam:PassedToService", "ec2.amazonaws.com"),))
    ).allowed


# ------------------------------------------------------------------ operations → authorizations


def test_operations_map_to_actions_through_the_reference() -> None:
    assert action_for_operation("s3", "ListObjectsV2") == "ListBucket"  # documented by the API page
    assert action_for_operation("s3", "GetObject") == "GetObject"
    assert action_for_operation("dynamodb", "BatchGetItem") == "BatchGetItem"
    assert action_for_operation("ses", "SendEmail") == "SendEmail"
    with pytest.raises(NotAuthorizable):
        action_for_operation("dynamodb", "TransactWriteItems")  # not an action: authorized per item


def test_sesv2_send_email_is_ses_send_email_on_the_sender_identity() -> None:
    found = authorizations("sesv2", "SendEmail", {"FromEmailAddress": "Billing <no-reply@example.com>"}, REGION)
    assert found == [Authorization("ses:SendEmail", "arn:aws:ses:eu-west-1:123456789012:identity/example.com")]


def test_a_transaction_is_authorized_item_by_item() -> None:
    items = [
        {"Put": {"TableName": "accounts"}},
        {"Update": {"TableName": "accounts"}},
        {"Delete": {"TableName": "markers"}},
        {"ConditionCheck": {"TableName": "accounts"}},
    ]
    found = authorizations("dynamodb", "TransactWriteItems", {"TransactItems": items}, REGION)
    assert {(a.action, a.resource.rsplit("/", 1)[-1]) for a in found} == {
        ("dynamodb:PutItem", "accounts"),
        ("dynamodb:UpdateItem", "accounts"),
        ("dynamodb:DeleteItem", "markers"),
        ("dynamodb:ConditionCheckItem", "accounts"),
    }


def test_every_per_item_action_is_in_the_reference() -> None:
    for action in TRANSACTION_ITEM_ACTIONS.values():
        assert privilege("dynamodb", action)["privilege"] == action
    # ConditionCheck's documentation is the ConditionCheckItem action's own link
    assert action_for_operation("dynamodb", "ConditionCheck") == TRANSACTION_ITEM_ACTIONS["ConditionCheck"]
    assert {service for service, _ in PER_ITEM} == {"dynamodb", "s3", "events", "sqs"}


def test_batch_reads_are_batch_get_item_on_each_table() -> None:
    found = authorizations("dynamodb", "BatchGetItem", {"RequestItems": {"accounts": {}, "markers": {}}}, REGION)
    assert [a.action for a in found] == ["dynamodb:BatchGetItem", "dynamodb:BatchGetItem"]
    assert {a.resource for a in found} == {TABLE, TABLE.replace("accounts", "markers")}


def test_a_query_of_an_index_is_authorized_on_the_index() -> None:
    found = authorizations("dynamodb", "Query", {"TableName": "accounts", "IndexName": "HoldsDue"}, REGION)
    assert found == [Authorization("dynamodb:Query", f"{TABLE}/index/HoldsDue")]


def test_deleting_objects_is_delete_object_on_each_key() -> None:
    params = {"Bucket": "avatars", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b"}]}}
    found = authorizations("s3", "DeleteObjects", params, REGION)
    assert found == [Authorization("s3:DeleteObject", f"{BUCKET}/a"), Authorization("s3:DeleteObject", f"{BUCKET}/b")]


def test_listing_carries_its_prefix_as_a_condition_key() -> None:
    found = authorizations("s3", "ListObjectsV2", {"Bucket": "avatars", "Prefix": "avatars/u1/"}, REGION)
    assert found == [Authorization("s3:ListBucket", BUCKET, (("s3:prefix", "avatars/u1/"),))]


def test_creating_a_schedule_passes_its_role_to_the_scheduler() -> None:
    role = "arn:aws:iam::123456789012:role/releases"
    params = {"Name": "release-hold_1", "GroupName": "holds", "Target": {"Arn": "arn:x", "RoleArn": role}}
    found = authorizations("scheduler", "CreateSchedule", params, REGION)
    assert found == [
        Authorization("iam:PassRole", role, (("iam:PassedToService", "scheduler.amazonaws.com"),)),
        Authorization(
            "scheduler:CreateSchedule", "arn:aws:scheduler:eu-west-1:123456789012:schedule/holds/release-hold_1"
        ),
    ]


def test_a_parameter_is_named_without_its_leading_slash() -> None:
    found = authorizations("ssm", "GetParameter", {"Name": "/app/dev/key", "WithDecryption": True}, REGION)
    assert found == [Authorization("ssm:GetParameter", "arn:aws:ssm:eu-west-1:123456789012:parameter/app/dev/key")]


def test_an_unknown_resource_shape_is_not_authorizable() -> None:
    with pytest.raises(NotAuthorizable):
        authorizations("dynamodb", "GetItem", {"Key": {}}, REGION)  # no table named


def test_a_recording_survives_its_file_format() -> None:
    recording = Recording()
    found = authorizations("s3", "ListObjectsV2", {"Bucket": "avatars", "Prefix": "a/"}, REGION)[0]

    recording.calls[Call(Environment().key(), "F", "s3.ListObjectsV2", found)] += 3
    recording.unauthorizable[("F", "x.Y", "why")] += 1
    again = Recording.from_json(recording.to_json())
    assert again.calls == recording.calls
    assert again.unauthorizable == recording.unauthorizable
