"""The export bucket and queue in template.yaml: private, encrypted, archives kept 7 days, every
failed build ending in an alarmed dead-letter queue; each function may do only its part."""

from __future__ import annotations

from typing import Any

import pytest

from local.template import load_template
from tests.avatars.test_avatar_template import s3_grants

EXPORTS = {"Fn::Sub": "${ExportBucket.Arn}/exports/*"}
BUCKET = {"Fn::GetAtt": ["ExportBucket", "Arn"]}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def test_the_bucket_is_private_encrypted_and_keeps_archives_seven_days(template: dict[str, Any]) -> None:
    props = template["Resources"]["ExportBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    [encryption] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    [rule] = props["LifecycleConfiguration"]["Rules"]
    assert (rule["Prefix"], rule["ExpirationInDays"], rule["Status"]) == ("exports/", 7, "Enabled")
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_a_build_that_keeps_failing_lands_in_an_alarmed_dead_letter_queue(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    queue = resources["ExportQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ExportDeadLetterQueue", "Arn"]}
    worker = resources["AccountExportsFunction"]["Properties"]
    # SQS redelivers a run that died only after the function's lease on the export ran out
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    [source] = worker["Events"].values()
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarm = resources["AccountExportsDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["ExportDeadLetterQueue", "QueueName"]}}
    ]


def test_each_function_may_touch_only_its_part_of_the_export_bucket(template: dict[str, Any]) -> None:
    assert s3_grants(template, "ExportsFunction", "export") == {"s3:GetObject": [EXPORTS]}  # presigned downloads
    assert s3_grants(template, "ProfileFunction", "export") == {  # account deletion erases the archives
        "s3:ListBucket": [BUCKET],
        "s3:ListBucketMultipartUploads": [BUCKET],
        "s3:DeleteObject": [EXPORTS],
        "s3:AbortMultipartUpload": [EXPORTS],
    }
    worker = s3_grants(template, "AccountExportsFunction", "export")
    assert set(worker) == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListBucket",
        "s3:ListBucketMultipartUploads",
    }
    assert all(grants in ([EXPORTS], [BUCKET]) for grants in worker.values())
