"""Uploads to a presigned POST, held to the form's policy as S3 holds them: in-process moto
refuses what S3 refuses (size, key, type, expiry, signature, extra fields) and stores nothing."""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from account_billing.avatars.policy import MAX_BYTES, presigned_post
from local.s3_post_policy import Refused, check, sign
from tests.support.avatars import bucket_keys

SECRETS = {"testing": "testing"}  # for the rules tested without moto
KEY = "uploads/user-1/9f1c2d"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def form(aws: dict[str, str]) -> dict[str, Any]:
    """A form as the avatar function issues it, for a JPEG at KEY."""
    s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
    return presigned_post(s3, os.environ["AVATAR_BUCKET"], KEY, "image/jpeg")


def post(
    form: dict[str, Any], data: bytes = JPEG, content_type: str = "image/jpeg", **changes: str | None
) -> requests.Response:
    """Send the form, its fields changed by `changes` (None: left out). Fields whose names are not
    identifiers go in as `**{...}`, which mypy cannot tell from `data`: those calls ignore arg-type."""
    fields = {**form["fields"], **changes}
    fields = {name: value for name, value in fields.items() if value is not None}
    return requests.post(form["url"], data=fields, files={"file": ("a.jpg", data, content_type)}, timeout=30)


def error(response: requests.Response) -> tuple[int, str, str]:
    code = re.search(r"<Code>(.*?)</Code>", response.text)
    message = re.search(r"<Message>(.*?)</Message>", response.text)
    return response.status_code, code[1] if code else "", message[1] if message else ""


def policy_of(form: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(base64.b64decode(form["fields"]["policy"]))
    return document


def resigned(form: dict[str, Any], document: dict[str, Any], signer: str) -> dict[str, str]:
    """The form with another policy, signed with the secret `signer` (what someone holding it could do)."""
    fields = dict(form["fields"])
    fields["policy"] = base64.b64encode(json.dumps(document).encode()).decode()
    _, date, region, _, _ = fields["x-amz-credential"].split("/")
    fields["x-amz-signature"] = sign(fields["policy"], signer, date, region)
    return fields


# ------------------------------------------------------------------ through moto


def test_the_upload_the_form_allows_is_stored(form: dict[str, Any]) -> None:
    response = post(form)
    assert response.status_code == 204, response.text
    assert bucket_keys() == {KEY}


def test_a_file_over_the_size_limit_is_entity_too_large(form: dict[str, Any]) -> None:
    response = post(form, data=b"\xff" * (21 * 1024 * 1024))
    assert error(response) == (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    assert f"<MaxSizeAllowed>{MAX_BYTES}</MaxSizeAllowed>" in response.text
    assert bucket_keys() == set()


def test_an_empty_file_is_entity_too_small(form: dict[str, Any]) -> None:
    assert error(post(form, data=b""))[:2] == (400, "EntityTooSmall")
    assert bucket_keys() == set()


def test_a_rewritten_key_is_refused(form: dict[str, Any]) -> None:
    response = post(form, key="avatars/user-1/published.jpg")
    assert error(response) == (
        403,
        "AccessDenied",
        f'Invalid according to Policy: Policy Condition failed: {{"key": "{KEY}"}}',
    )
    assert bucket_keys() == set()


def test_another_content_type_is_refused(form: dict[str, Any]) -> None:
    status, code, message = error(post(form, content_type="image/gif", **{"Content-Type": "image/gif"}))  # type: ignore[arg-type]
    assert (status, code) == (403, "AccessDenied")
    assert message == 'Invalid according to Policy: Policy Condition failed: {"content-type": "image/jpeg"}'
    assert bucket_keys() == set()


def test_an_expired_form_is_refused(aws: dict[str, str]) -> None:
    s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
    expired = s3.generate_presigned_post(os.environ["AVATAR_BUCKET"], KEY, ExpiresIn=-1)
    assert error(post(expired)) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    assert bucket_keys() == set()


def test_a_tampered_policy_is_refused(form: dict[str, Any]) -> None:
    document = policy_of(form)
    document["conditions"] = [
        c for c in document["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")
    ]
    fields = dict(form["fields"], policy=base64.b64encode(json.dumps(document).encode()).decode())
    assert error(post({"url": form["url"], "fields": fields}))[:2] == (403, "SignatureDoesNotMatch")
    assert bucket_keys() == set()


def test_a_tampered_signature_is_refused(form: dict[str, Any]) -> None:
    signature = form["fields"]["x-amz-signature"]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert error(post(form, **{"x-amz-signature": flipped}))[:2] == (403, "SignatureDoesNotMatch")
    assert bucket_keys() == set()


def test_a_policy_signed_with_other_credentials_is_refused(form: dict[str, Any]) -> None:
    fields = resigned(form, policy_of(form), signer="not-the-signers-secret")
    assert error(post({"url": form["url"], "fields": fields}))[:2] == (403, "SignatureDoesNotMatch")


def test_a_field_the_policy_does_not_cover_is_refused(form: dict[str, Any]) -> None:
    response = post(form, **{"x-amz-meta-owner": "someone-else"})  # type: ignore[arg-type]
    assert error(response) == (403, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-owner")
    assert bucket_keys() == set()


def test_a_field_s3_ignores_needs_no_condition(form: dict[str, Any]) -> None:
    assert post(form, **{"x-ignore-tracking": "1"}).status_code == 204  # type: ignore[arg-type]


def test_a_form_without_its_key_field_is_refused(form: dict[str, Any]) -> None:
    fields = {name: value for name, value in form["fields"].items() if name != "key"}
    response = requests.post(form["url"], data=fields, files={"file": ("a.jpg", JPEG, "image/jpeg")}, timeout=30)
    assert error(response) == (400, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
    assert bucket_keys() == set()


# ------------------------------------------------------------------ the rules, without moto

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CREDENTIAL = "testing/20261128/eu-west-1/s3/aws4_request"


def signed(conditions: list[Any], expiration: datetime = NOW + timedelta(minutes=5), **fields: str) -> dict[str, str]:
    base = {
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": CREDENTIAL,
        "x-amz-date": "20261128T120000Z",
    }
    covered = [{name: value} for name, value in base.items()]
    document = {"expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"), "conditions": covered + conditions}
    policy = base64.b64encode(json.dumps(document).encode()).decode()
    return {**base, **fields, "policy": policy, "x-amz-signature": sign(policy, "testing", "20261128", "eu-west-1")}


def verdict(fields: dict[str, str], size: int = 10, bucket: str = "b") -> str | None:
    try:
        check(fields, bucket=bucket, size=size, secret_for=SECRETS.get, now=NOW)
    except Refused as refused:
        return refused.code + ": " + refused.message
    return None


def test_starts_with_allows_the_prefix_only() -> None:
    fields = signed([["starts-with", "$key", "uploads/"]], key="uploads/a")
    assert verdict(fields) is None
    assert verdict({**signed([["starts-with", "$key", "uploads/"]], key="avatars/a")}) == (
        'AccessDenied: Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]'
    )


def test_eq_and_exact_matches() -> None:
    assert verdict(signed([["eq", "$key", "a"]], key="a")) is None
    assert verdict(signed([["eq", "$key", "a"]], key="b")) is not None
    assert verdict(signed([{"key": "a"}], key="a")) is None


def test_the_bucket_condition_is_the_bucket_posted_to() -> None:
    fields = signed([{"bucket": "avatars"}, {"key": "a"}], key="a")
    assert verdict(fields, bucket="avatars") is None
    assert (
        verdict(fields, bucket="other")
        == 'AccessDenied: Invalid according to Policy: Policy Condition failed: {"bucket": "avatars"}'
    )


def test_content_length_range_bounds_the_file() -> None:
    fields = signed([["content-length-range", 5, 10], {"key": "a"}], key="a")
    assert verdict(fields, size=5) is None
    assert verdict(fields, size=10) is None
    assert str(verdict(fields, size=11)).startswith("EntityTooLarge")
    assert str(verdict(fields, size=4)).startswith("EntityTooSmall")


def test_field_names_compare_without_case() -> None:
    conditions: list[Any] = [{"content-type": "image/png"}, {"key": "a"}]
    fields = signed(conditions, key="a", **{"Content-Type": "image/png"})  # type: ignore[arg-type]
    assert verdict(fields) is None


def test_a_condition_on_a_field_the_form_lacks_fails() -> None:
    assert verdict(signed([{"key": "a"}, {"success_action_status": "201"}], key="a")) == (
        'AccessDenied: Invalid according to Policy: Policy Condition failed: {"success_action_status": "201"}'
    )


def test_unknown_access_keys_and_bad_algorithms_are_refused() -> None:
    fields = signed([{"key": "a"}], key="a")
    assert str(verdict({**fields, "x-amz-credential": CREDENTIAL.replace("testing", "nobody")})).startswith(
        "InvalidAccessKeyId"
    )
    assert str(verdict({**fields, "x-amz-algorithm": "AWS4-HMAC-SHA1"})).startswith("InvalidArgument")


def test_a_policy_that_is_not_json_is_invalid() -> None:
    fields = signed([{"key": "a"}], key="a")
    policy = base64.b64encode(b"{not json").decode()
    fields.update(policy=policy, **{"x-amz-signature": sign(policy, "testing", "20261128", "eu-west-1")})
    assert str(verdict(fields)).startswith("InvalidPolicyDocument")
