"""A data export through the local stack: started over the HTTP API, built by the export function
from the local SQS queue, downloaded from the local S3 through its presigned URL, and announced by
an email in /_local/mailbox."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Caller, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_an_export_is_built_downloaded_and_mailed(
    stack: LocalStack, api: httpx.Client, caller: Caller, account: httpx.Response
) -> None:
    address = f"{caller.sub}@example.com"  # the local token's verified email: the primary
    key = {"Idempotency-Key": str(uuid.uuid4())}

    started = api.post("/v1/account/exports", headers={**caller.auth, **key})
    again = api.post("/v1/account/exports", headers={**caller.auth, **key})
    assert started.status_code == 202, started.text
    assert again.json()["id"] == started.json()["id"]
    location = started.headers["location"]

    def ready() -> dict[str, Any] | None:
        shown = api.get(location, headers=caller.auth).json()
        return dict(shown) if shown["status"] == "ready" else None

    export = wait_for(ready, timeout=60)
    download = httpx.get(export["download_url"], timeout=30)

    assert download.status_code == 200
    zipped = zipfile.ZipFile(io.BytesIO(download.content))
    assert zipped.testzip() is None
    assert json.loads(zipped.read("profile.json"))["user_id"] == caller.user_id
    assert "export.requested" in {e["kind"] for e in json.loads(zipped.read("activity.json"))}

    def mail() -> list[dict[str, Any]] | None:
        found = api.get("/_local/mailbox", params={"to": address}).json()["messages"]
        return [m for m in found if "Your data export is ready" in str(m)] or None

    [message] = wait_for(mail, timeout=30)
    assert export["id"] in str(message)
