"""Calls to the avatar functions: the upload form, the browser's POST, S3's event, removal."""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from typing import Any
from urllib.parse import quote_plus

import boto3
import requests

from functions.avatar import app as avatar
from functions.avatar_validator import app as avatar_validator
from tests.support.events import EVENTS, LambdaContext, call, http_event

Result = tuple[int, dict[str, str], Any]


@cache
def _s3_sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / "avatar_validator" / "object_created.json").read_text())
    return data


def s3_event(
    key: str, *, bucket: str | None = None, encode: str = "/", event_name: str = "ObjectCreated:Post"
) -> dict[str, Any]:
    """The sample S3 event for `key`, URL-encoded as S3 does (`encode=""` also encodes "/",
    as moto does)."""
    event = copy.deepcopy(_s3_sample())
    record = event["Records"][0]
    record["eventName"] = event_name
    record["s3"]["bucket"]["name"] = bucket or os.environ["AVATAR_BUCKET"]
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{record['s3']['bucket']['name']}"
    record["s3"]["object"]["key"] = quote_plus(key, safe=encode)
    return event


def deliver(key: str, **kwargs: Any) -> dict[str, Any]:
    """S3 notifies the validator of `key`; returns the validator's summary of outcomes."""
    result: dict[str, Any] = avatar_validator.lambda_handler(s3_event(key, **kwargs), LambdaContext())
    return result


def bucket_keys() -> set[str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=os.environ["AVATAR_BUCKET"])
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def get_object(key: str) -> dict[str, Any]:
    response = boto3.client("s3").get_object(Bucket=os.environ["AVATAR_BUCKET"], Key=key)
    return dict(response)


def put_upload(key: str, data: bytes, content_type: str = "image/jpeg") -> None:
    boto3.client("s3").put_object(Bucket=os.environ["AVATAR_BUCKET"], Key=key, Body=data, ContentType=content_type)


def key_of_url(url: str) -> str:
    base = os.environ["AVATAR_BASE_URL"].rstrip("/") + "/"
    assert url.startswith(base), url
    return url[len(base) :]


class AvatarClient:
    """The avatar function, invoked in-process with events built from `events/avatar/`."""

    def __init__(self, sub: str | None = "user-1") -> None:
        self.sub = sub

    def request_upload(self, content_type: Any = "image/jpeg") -> Result:
        event = http_event("avatar/request_upload", sub=self.sub, body={"content_type": content_type})
        return call(avatar.lambda_handler, event)

    def remove(self) -> Result:
        return call(avatar.lambda_handler, http_event("avatar/remove_avatar", sub=self.sub))

    def post_form(self, form: dict[str, Any], data: bytes, filename: str = "avatar.jpg") -> requests.Response:
        """What a browser does with the form: a multipart POST, the file last (moto serves it)."""
        fields = form["fields"]
        files = {"file": (filename, data, fields.get("Content-Type", "application/octet-stream"))}
        return requests.post(form["url"], data=fields, files=files, timeout=10)

    def upload(self, data: bytes, content_type: str = "image/jpeg", *, notify: bool = True) -> str:
        """Ask for a form, post `data` with it and (unless `notify` is False) deliver S3's event.
        Returns the upload's key."""
        status, _, form = self.request_upload(content_type)
        assert status == 200, form
        response = self.post_form(form, data)
        assert response.status_code in (200, 201, 204), response.text
        key: str = form["fields"]["key"]
        if notify:
            deliver(key)
        return key
