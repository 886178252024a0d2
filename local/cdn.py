"""CloudFront distributions of the template, played by the local gateway: a distribution's
domain is `<gateway>/_local/cdn/<LogicalId>`, and its objects come from its S3 origin in moto.

Only the default cache behavior's origin is served, over plain HTTP (the template's `https://`
URLs of a distribution are rewritten to `http://` in the functions' environment)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from local.apigw import HttpResponse, gateway_response
from local.intrinsics import Resolver
from local.template import resources

_S3_DOMAIN = re.compile(r"^(?P<bucket>[a-z0-9.-]+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")
PATH_PREFIX = "/_local/cdn/"
_PASSED_HEADERS = ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Content-Encoding", "Content-Disposition")


@dataclass(frozen=True)
class S3Origin:
    bucket: str
    origin_path: str = ""


def s3_origins(template: Mapping[str, Any], resolver: Resolver) -> dict[str, S3Origin]:
    """Each distribution's default origin, when it is an S3 bucket: logical id → origin."""
    origins = {}
    for logical, resource in resources(dict(template), "AWS::CloudFront::Distribution").items():
        config = resolver(resource["Properties"]["DistributionConfig"])
        target = config.get("DefaultCacheBehavior", {}).get("TargetOriginId")
        origin = next((o for o in config.get("Origins", []) if o.get("Id") == target), None)
        if origin and (match := _S3_DOMAIN.match(str(origin.get("DomainName", "")))):
            origins[logical] = S3Origin(match["bucket"], str(origin.get("OriginPath", "")).strip("/"))
    return origins


def serve(s3: Any, origins: Mapping[str, S3Origin], method: str, path: str) -> HttpResponse | None:
    """The response to GET/HEAD `/_local/cdn/<LogicalId>/<key>`; None for another path."""
    if method not in ("GET", "HEAD") or not path.startswith(PATH_PREFIX):
        return None
    logical, _, raw_key = path.removeprefix(PATH_PREFIX).partition("/")
    key = unquote(raw_key)
    origin = origins.get(logical)
    if origin is None or not key:
        return None
    full_key = f"{origin.origin_path}/{key}" if origin.origin_path else key
    try:
        obj = s3.get_object(Bucket=origin.bucket, Key=full_key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "AccessDenied"):
            return gateway_response(404, "Not Found")
        raise
    body = obj["Body"].read()
    metadata = obj["ResponseMetadata"]["HTTPHeaders"]
    headers = [(name, metadata[name.lower()]) for name in _PASSED_HEADERS if name.lower() in metadata]
    return HttpResponse(200, headers, body)
