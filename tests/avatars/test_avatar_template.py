"""template.yaml's avatar resources: a private bucket, uploads checked on arrival, published
avatars served only through CloudFront, and each function allowed only its part of the bucket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from account_billing.avatars.settings import FORMS_PER_HOUR, AvatarSettings
from account_billing.avatars.validation import INSPECTION_SECONDS
from local.template import ROOT, functions, resources

BUCKET_NAME = {"Fn::Sub": "${AWS::StackName}-avatars-${AWS::AccountId}"}
BUCKET_ARN = "arn:${AWS::Partition}:s3:::${AWS::StackName}-avatars-${AWS::AccountId}"
DISTRIBUTION_ARN = "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution"


def statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    policies = template["Resources"][function]["Properties"]["Policies"]
    return [statement for policy in policies for statement in policy["Statement"]]


def s3_grants(template: dict[str, Any], function: str, bucket: str = "avatar") -> dict[str, list[Any]]:
    """S3 action → the resources of one bucket (the avatar bucket, or `bucket`) granted it."""
    grants: dict[str, list[Any]] = {}
    for statement in statements(template, function):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            if action.startswith("s3:"):
                resource = statement["Resource"]
                named = [
                    r for r in (resource if isinstance(resource, list) else [resource]) if bucket in str(r).lower()
                ]
                if named:
                    grants.setdefault(action, []).extend(named)
    return grants


def test_the_bucket_is_private_encrypted_and_forgets_stale_uploads(template: dict[str, Any]) -> None:
    props = template["Resources"]["AvatarBucket"]["Properties"]
    assert props["BucketName"] == BUCKET_NAME
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["Prefix"], rule["ExpirationInDays"]) == ("Enabled", "uploads/", 1)
    (cors,) = props["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]
    assert cors["AllowedOrigins"] == [{"Ref": "CorsAllowedOrigin"}]


def test_only_cloudfront_reads_and_only_published_avatars(template: dict[str, Any]) -> None:
    policy = template["Resources"]["AvatarBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "AvatarBucket"}
    allow = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow == [
        {
            "Sid": "CloudFrontReadsPublishedAvatars",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": "${AvatarBucket.Arn}/avatars/*"},
            "Condition": {
                "StringEquals": {"AWS:SourceArn": {"Fn::Sub": f"{DISTRIBUTION_ARN}/${{AvatarDistribution}}"}}
            },
        }
    ]
    deny = next(s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": False}}


def test_cloudfront_signs_its_requests_to_the_bucket_with_origin_access_control(template: dict[str, Any]) -> None:
    oac = template["Resources"]["AvatarOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3",
        "always",
        "sigv4",
    )
    config = template["Resources"]["AvatarDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["AvatarOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity
    assert origin["DomainName"]["Fn::Sub"].startswith(BUCKET_NAME["Fn::Sub"] + ".s3.")
    behavior = config["DefaultCacheBehavior"]
    assert behavior["TargetOriginId"] == origin["Id"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert template["Outputs"]["AvatarCdnUrl"]["Value"] == {"Fn::Sub": "https://${AvatarDistribution.DomainName}"}


def test_uploads_and_only_uploads_notify_the_validator(transformed: dict[str, Any]) -> None:
    bucket = transformed["Resources"]["AvatarBucket"]
    (notification,) = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert notification["Function"] == {"Fn::GetAtt": ["AvatarValidatorFunction", "Arn"]}
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": "uploads/"}]}}
    permission = transformed["Resources"]["AvatarValidatorFunctionUploadPermission"]["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com"


def test_the_validator_names_the_bucket_as_the_bucket_names_itself(template: dict[str, Any]) -> None:
    # The bucket notifies the validator, so the validator cannot !Ref it (a circular dependency)
    environment = template["Resources"]["AvatarValidatorFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["AVATAR_BUCKET"] == BUCKET_NAME
    assert environment["AVATAR_BASE_URL"] == {"Fn::Sub": "https://${AvatarDistribution.DomainName}"}
    text = json.dumps(template["Resources"]["AvatarValidatorFunction"])
    assert "AvatarBucket" not in text.replace('"Bucket": {"Ref": "AvatarBucket"}', "")  # only its S3 event


def test_each_function_may_touch_only_its_part_of_the_bucket(template: dict[str, Any]) -> None:
    validator = s3_grants(template, "AvatarValidatorFunction")
    assert validator == {
        "s3:ListBucket": [{"Fn::Sub": BUCKET_ARN}],
        "s3:GetObject": [{"Fn::Sub": f"{BUCKET_ARN}/uploads/*"}],
        "s3:DeleteObject": [{"Fn::Sub": f"{BUCKET_ARN}/uploads/*"}, {"Fn::Sub": f"{BUCKET_ARN}/avatars/*"}],
        "s3:PutObject": [{"Fn::Sub": f"{BUCKET_ARN}/avatars/*"}],
    }
    avatar = s3_grants(template, "AvatarFunction")
    assert avatar == {
        "s3:PutObject": [{"Fn::Sub": "${AvatarBucket.Arn}/uploads/*"}],  # what its presigned POSTs may do
        "s3:ListBucket": [{"Fn::GetAtt": ["AvatarBucket", "Arn"]}],
        "s3:DeleteObject": [{"Fn::Sub": "${AvatarBucket.Arn}/avatars/*"}],
    }
    profile = s3_grants(template, "ProfileFunction")  # account deletion erases every object
    assert profile == {
        "s3:ListBucket": [{"Fn::GetAtt": ["AvatarBucket", "Arn"]}],
        "s3:DeleteObject": [
            {"Fn::Sub": "${AvatarBucket.Arn}/uploads/*"},
            {"Fn::Sub": "${AvatarBucket.Arn}/avatars/*"},
        ],
    }
    for function in ("AvatarValidatorFunction", "AvatarFunction", "ProfileFunction"):
        for statement in statements(template, function):
            if statement["Action"] == "s3:ListBucket":
                assert "s3:prefix" in statement["Condition"]["StringLike"], function


def test_the_avatar_routes_belong_to_the_avatar_function(template: dict[str, Any]) -> None:
    events = template["Resources"]["AvatarFunction"]["Properties"]["Events"]
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()}
    assert routes == {("POST", "/v1/account/avatar"), ("DELETE", "/v1/account/avatar")}


def test_pillow_is_pinned_for_the_validator_alone(template: dict[str, Any]) -> None:
    specs = functions(template)
    for name, spec in specs.items():
        requirements = ROOT / spec.code_uri / "requirements.txt"
        text = requirements.read_text().lower() if requirements.exists() else ""
        if name == "AvatarValidatorFunction":
            assert "pillow==13.0.0" in text
        else:
            assert "pillow" not in text, name
    assert len(resources(template, "AWS::S3::Bucket")) >= 1


def test_no_module_but_the_image_checks_imports_pillow() -> None:
    package = ROOT / "layers" / "common" / "account_billing"
    importers = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if "from PIL" in path.read_text() or "import PIL" in path.read_text()
    }
    assert importers == {"avatars/images.py"}
    users = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "functions").rglob("*.py")
        if "avatars import images" in path.read_text() or "avatars.images" in path.read_text()
    }
    assert users == {"functions/avatar_validator/app.py"}


@pytest.mark.parametrize("module", ["functions.profile.app", "functions.avatar.app"])
def test_the_other_functions_start_without_pillow(module: str) -> None:
    code = f"import sys, {module}; print('PIL' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "common")])}
    result = subprocess.run(  # noqa: S603 -- this interpreter, a fixed module name
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# ------------------------------------------------------------------ bounded work and abuse


def test_a_failed_upload_event_is_retried_once_then_kept_in_an_encrypted_queue(transformed: dict[str, Any]) -> None:
    config = transformed["Resources"]["AvatarValidatorFunctionEventInvokeConfig"]["Properties"]
    assert config["FunctionName"] == {"Ref": "AvatarValidatorFunction"}
    assert config["MaximumRetryAttempts"] == 1  # not Lambda's default 2: a poisoned file is not retried blindly
    assert config["MaximumEventAgeInSeconds"] == 3600
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["AvatarValidatorDeadLetterQueue", "Arn"]
    }
    queue = transformed["Resources"]["AvatarValidatorDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    alarm = transformed["Resources"]["AvatarValidatorDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["AvatarValidatorDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "ApproximateNumberOfMessagesVisible",
        "GreaterThanThreshold",
        0,
    )


def test_the_validator_may_send_to_its_queue_and_nothing_else_of_sqs(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["AvatarValidatorFunctionRole"]["Properties"]
    sqs = [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if str(statement["Action"]).startswith("sqs:") or "sqs:" in json.dumps(statement["Action"])
    ]
    assert sqs == [
        {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": ["AvatarValidatorDeadLetterQueue", "Arn"]},
        }
    ]


def test_the_validator_has_reserved_concurrency_so_uploads_cannot_starve_the_api(template: dict[str, Any]) -> None:
    props = template["Resources"]["AvatarValidatorFunction"]["Properties"]
    assert props["ReservedConcurrentExecutions"] == {"Ref": "AvatarValidatorConcurrency"}
    parameter = template["Parameters"]["AvatarValidatorConcurrency"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 10, 1)
    for name, resource in template["Resources"].items():  # no other function reserves (or caps) any
        if resource["Type"] == "AWS::Serverless::Function" and name != "AvatarValidatorFunction":
            assert "ReservedConcurrentExecutions" not in resource["Properties"], name


def test_the_inspection_budget_is_well_inside_the_validator_timeout(template: dict[str, Any]) -> None:
    props = template["Resources"]["AvatarValidatorFunction"]["Properties"]
    assert props["Timeout"] >= 2 * INSPECTION_SECONDS + 10


def test_the_form_limit_is_a_parameter_the_avatar_function_reads(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["AvatarFormsPerHour"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", FORMS_PER_HOUR, 1)
    environment = template["Resources"]["AvatarFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["AVATAR_FORMS_PER_HOUR"] == {"Ref": "AvatarFormsPerHour"}
    assert AvatarSettings.model_validate({"avatar_forms_per_hour": "7"}).form_limit.limit == 7
