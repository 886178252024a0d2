"""The local stack's S3 holds browser uploads to the avatar form's policy, as S3 does: a file
over 20 MB, another key or another type is refused and never reaches the validator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Caller, wait_for
from tests.support import corpus

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def form_for(api: httpx.Client, caller: Caller, content_type: str = "image/jpeg") -> dict[str, Any]:
    response = api.post("/v1/account/avatar", json={"content_type": content_type}, headers=caller.auth)
    assert response.status_code == 200, response.text
    form: dict[str, Any] = response.json()
    return form


def post(form: dict[str, Any], data: bytes, content_type: str = "image/jpeg", **changes: str) -> httpx.Response:
    fields = {**form["fields"], **changes}
    return httpx.post(form["url"], data=fields, files={form["file_field"]: ("picture", data, content_type)}, timeout=60)


def uploads(stack: LocalStack, caller: Caller) -> list[str]:
    bucket = stack.describe()["resources"]["AWS::S3::Bucket"]["AvatarBucket"]
    listing = stack.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"uploads/{caller.sub}/")
    return [item["Key"] for item in listing.get("Contents", [])]


@pytest.mark.usefixtures("account")
def test_uploads_outside_the_forms_policy_are_refused_by_local_s3(
    api: httpx.Client, caller: Caller, stack: LocalStack
) -> None:
    form = form_for(api, caller)

    # A file over 20 MB, another key, another type: refused, nothing stored

    too_large = post(form, b"\xff" * (21 * 1024 * 1024))
    assert too_large.status_code == 400
    assert "<Code>EntityTooLarge</Code>" in too_large.text

    elsewhere = post(form, corpus.photo_jpeg(), key=f"avatars/{caller.sub}/forged.jpg")
    assert elsewhere.status_code == 403
    assert "<Code>AccessDenied</Code>" in elsewhere.text

    other_type = post(form, corpus.photo_jpeg(), "image/gif", **{"Content-Type": "image/gif"})
    assert other_type.status_code == 403
    assert uploads(stack, caller) == []

    # The form itself still works: the upload it allows becomes the avatar
    assert post(form, corpus.photo_jpeg()).status_code == 204
    wait_for(lambda: api.get("/v1/account", headers=caller.auth).json()["avatar"]["status"] == "ready", timeout=20)
