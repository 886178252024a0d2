"""Browser uploads to presigned POSTs, refused unless they satisfy their policy as S3 requires.

moto stores whatever is posted to a bucket. S3 first checks the form (Amazon S3 API reference:
"Authenticating Requests in Browser-Based Uploads Using POST (AWS Signature Version 4)", "POST
Policy", "PostObject" and "Error responses"):

- the signature: SigV4, the HMAC-SHA256 of the base64 policy with the signing key derived from
  the secret key of `x-amz-credential`'s access key, its date and region, `s3`, `aws4_request`;
- the policy's `expiration`;
- every condition: exact matches (`{"field": value}`, `["eq", "$field", value]`),
  `["starts-with", "$field", prefix]`, `{"bucket": name}` against the bucket posted to, and
  `["content-length-range", min, max]` against the file's size;
- every form field except `policy`, `x-amz-signature`, `file` and `x-ignore-*` covered by a
  condition (field names compare case-insensitively).

Refusals answer as S3 does: 403 `AccessDenied` ("Invalid according to Policy: ..."), 403
`SignatureDoesNotMatch` / `InvalidAccessKeyId`, 400 `EntityTooLarge` / `EntityTooSmall` with
the sizes, 400 `InvalidPolicyDocument`; nothing is stored.

`install(credentials)` puts the check into moto's S3 POST handler, for the in-process `mock_aws`
and `ThreadedMotoServer` alike (both use moto's `S3Response`); `credentials` maps the access
keys the presigns use to their secret keys (moto keeps no secrets of its own).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from moto.s3.responses import S3Response

EXEMPT_FIELDS = ("policy", "x-amz-signature", "file")
EXEMPT_PREFIX = "x-ignore-"
ALGORITHM = "AWS4-HMAC-SHA256"

_credentials: dict[str, str] = {}
_clock: list[Callable[[], datetime]] = [lambda: datetime.now(UTC)]


class Refused(Exception):
    """S3's answer to an upload that does not satisfy its form's policy."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def xml(self) -> str:
        extra = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in self.details.items())
        request_id = uuid.uuid4().hex[:16].upper()
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        )


def _denied(reason: str) -> Refused:
    return Refused(403, "AccessDenied", f"Invalid according to Policy: {reason}")


def signing_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign(policy_b64: str, secret: str, date: str, region: str) -> str:
    return hmac.new(signing_key(secret, date, region), policy_b64.encode(), hashlib.sha256).hexdigest()


def _check_signature(fields: Mapping[str, str], secret_for: Callable[[str], str | None]) -> None:
    if fields.get("x-amz-algorithm") != ALGORITHM:
        raise Refused(400, "InvalidArgument", f"POST requires the {ALGORITHM} x-amz-algorithm")
    scope = fields.get("x-amz-credential", "").split("/")
    if len(scope) != 5 or scope[3:] != ["s3", "aws4_request"]:
        raise Refused(400, "InvalidArgument", "Invalid credential scope in x-amz-credential")
    access_key, date, region = scope[:3]
    if not fields.get("x-amz-date", "").startswith(date):
        raise Refused(400, "InvalidArgument", "x-amz-date does not match the credential's date")
    secret = secret_for(access_key)
    if secret is None:
        raise Refused(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    expected = sign(fields["policy"], secret, date, region)
    if not hmac.compare_digest(expected, fields.get("x-amz-signature", "")):
        raise Refused(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )


def _document(policy_b64: str) -> dict[str, Any]:
    try:
        document = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise Refused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from exc
    if (
        not isinstance(document, dict)
        or "expiration" not in document
        or not isinstance(document.get("conditions"), list)
    ):
        raise Refused(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration or conditions.")
    return document


def _expiration(document: Mapping[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(str(document["expiration"]).replace("Z", "+00:00"))
    except ValueError as exc:
        raise Refused(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _conditions(document: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(operator, field, value): eq / starts-with on a lowercased field, or content-length-range."""
    found: list[tuple[str, str, Any]] = []
    for condition in document["conditions"]:
        if isinstance(condition, dict) and len(condition) == 1:
            ((name, value),) = condition.items()
            found.append(("eq", name.lower(), value))
        elif isinstance(condition, list) and len(condition) == 3 and condition[0] == "content-length-range":
            found.append(("content-length-range", "", (int(condition[1]), int(condition[2]))))
        elif (
            isinstance(condition, list)
            and len(condition) == 3
            and str(condition[0]).lower() in ("eq", "starts-with")
            and str(condition[1]).startswith("$")
        ):
            found.append((str(condition[0]).lower(), str(condition[1])[1:].lower(), condition[2]))
        else:
            raise Refused(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition: {json.dumps(condition)}")
    return found


def _failed(operator: str, field: str, value: Any) -> Refused:
    shown = json.dumps({field: value}) if operator == "eq" else json.dumps([operator, f"${field}", value])
    return _denied(f"Policy Condition failed: {shown}")


def check(
    fields: Mapping[str, str],
    *,
    bucket: str,
    size: int,
    secret_for: Callable[[str], str | None],
    now: datetime | None = None,
) -> None:
    """Raise `Refused` unless an upload of `size` bytes to `bucket` with form `fields` (the file
    excluded) satisfies its signed policy."""
    fields = {name.lower(): value for name, value in fields.items()}
    if "key" not in fields:
        raise Refused(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
    if "policy" not in fields:
        raise Refused(403, "AccessDenied", "Access Denied")
    _check_signature(fields, secret_for)
    document = _document(fields["policy"])
    if (now or _clock[0]()) > _expiration(document):
        raise _denied("Policy expired.")
    conditions = _conditions(document)
    covered = {field for _, field, _ in conditions}
    for name in fields:
        if name not in EXEMPT_FIELDS and not name.startswith(EXEMPT_PREFIX) and name not in covered:
            raise _denied(f"Extra input fields: {name}")
    for operator, field, value in conditions:
        if operator == "content-length-range":
            low, high = value
            if size > high:
                raise Refused(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                    ProposedSize=size,
                    MaxSizeAllowed=high,
                )
            if size < low:
                raise Refused(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    ProposedSize=size,
                    MinSizeAllowed=low,
                )
            continue
        actual = bucket if field == "bucket" else fields.get(field)
        if actual is None:
            raise _failed(operator, field, value)
        if operator == "eq" and actual != str(value):
            raise _failed(operator, field, value)
        if operator == "starts-with" and not _starts_with(field, actual, str(value)):
            raise _failed(operator, field, value)


def _starts_with(field: str, actual: str, prefix: str) -> bool:
    if field == "content-type":  # S3 checks each of a comma-separated Content-Type's values
        return all(part.strip().startswith(prefix) for part in actual.split(","))
    return actual.startswith(prefix)


# ------------------------------------------------------------------ moto


def _secret(access_key: str) -> str | None:
    return _credentials.get(access_key)


_moto_post = S3Response._bucket_response_post


def _checked_post(self: S3Response, request: Any, bucket_name: str) -> Any:
    form = getattr(self, "form_data", None) or {}
    if "key" in form or getattr(request, "files", None):  # a browser upload (not a DeleteObjects)
        fields = {name: value for name, value in form.items() if name.lower() != "file"}
        body = self.raw_body if isinstance(self.raw_body, bytes) else str(self.raw_body or "").encode()
        try:
            check(fields, bucket=bucket_name, size=len(body), secret_for=_secret)
        except Refused as refused:
            return refused.status, {"Content-Type": "application/xml"}, refused.xml()
    return _moto_post(self, request, bucket_name)


def install(credentials: Mapping[str, str], clock: Callable[[], datetime] | None = None) -> None:
    """Check every POST upload moto receives in this process; `credentials`: access key →
    secret key of the signers (added to those installed before)."""
    _credentials.update(credentials)
    if clock is not None:
        _clock[0] = clock
    S3Response._bucket_response_post = _checked_post  # type: ignore[method-assign]
