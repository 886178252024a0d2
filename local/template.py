"""Reads `template.yaml`, the single source of truth for resources, routes and environments.

Used by the tests (tables built from the template's own definitions) and by the local stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

# The DynamoDB table properties that CreateTable takes as they are.
_TABLE_PROPERTIES = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")


def _plain(node: Any) -> Any:
    """cfn-lint's YAML nodes as plain dicts, lists and strings."""
    return json.loads(json.dumps(node, default=str))


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    template: dict[str, Any] = _plain(cfn_yaml.load(str(path)))
    return template


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # API Gateway form: /v1/users/{user_id}
    function: str  # logical id of the function
    public: bool  # no JWT authorizer on this route
    authorizer: str | None = None  # name of the route's authorizer (None when public)
    scopes: tuple[str, ...] = ()  # authorization scopes the route requires (one is enough)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: str
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    timeout: int = 3
    memory: int = 128


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def functions(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    globals_ = template.get("Globals", {}).get("Function", {})
    specs = {}
    for name, res in resources(template, "AWS::Serverless::Function").items():
        props = res["Properties"]
        env = dict(globals_.get("Environment", {}).get("Variables", {}))
        env.update(props.get("Environment", {}).get("Variables", {}))
        specs[name] = FunctionSpec(
            logical_id=name,
            code_uri=props["CodeUri"],
            handler=props["Handler"],
            environment=env,
            timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
            memory=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
        )
    return specs


def _default_authorizer(template: dict[str, Any], api: Any) -> str | None:
    """The DefaultAuthorizer of the HTTP API an event names (`ApiId: !Ref X`), or of the implicit one."""
    api_id = api.get("Ref") if isinstance(api, dict) else None
    props = template["Resources"].get(api_id, {}).get("Properties") if api_id else None
    if props is None:
        props = template.get("Globals", {}).get("HttpApi", {})
    authorizer = (props.get("Auth") or {}).get("DefaultAuthorizer")
    return authorizer if isinstance(authorizer, str) else None


def http_routes(template: dict[str, Any]) -> list[HttpRoute]:
    """Every HttpApi event of every function, with whether it skips the JWT authorizer."""
    routes = []
    for name, res in resources(template, "AWS::Serverless::Function").items():
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            props = event["Properties"]
            auth = props.get("Auth", {})
            authorizer = auth.get("Authorizer") or _default_authorizer(template, props.get("ApiId"))
            public = authorizer in (None, "NONE")
            route = HttpRoute(
                props.get("Method", "ANY").upper(),
                props.get("Path", "$default"),
                name,
                public,
                authorizer=None if public else authorizer,
                scopes=tuple(auth.get("AuthorizationScopes") or ()),
            )
            routes.append(route)
    return routes


def table_definition(properties: dict[str, Any]) -> dict[str, Any]:
    """CreateTable arguments from an AWS::DynamoDB::Table's properties."""
    return {key: properties[key] for key in _TABLE_PROPERTIES if key in properties}


def ttl_attribute(properties: dict[str, Any]) -> str | None:
    spec = properties.get("TimeToLiveSpecification") or {}
    return spec.get("AttributeName") if spec.get("Enabled") else None


def physical_name(stack: str, logical_id: str) -> str:
    return f"{stack}-{logical_id}"


def create_tables(client: Any, template: dict[str, Any], stack: str) -> dict[str, str]:
    """Create every DynamoDB table of the template (keys, GSIs, TTL); return logical → physical."""
    names = {}
    for logical_id, res in resources(template, "AWS::DynamoDB::Table").items():
        props = res["Properties"]
        name = physical_name(stack, logical_id)
        client.create_table(TableName=name, **table_definition(props))
        if attribute := ttl_attribute(props):
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True}
            )
        names[logical_id] = name
    return names


def resolve(value: Any, refs: dict[str, str], region: str = "us-east-1", account: str = "123456789012") -> Any:
    """Resolve the intrinsics a function environment uses (`Ref`, `Fn::GetAtt`, `Fn::Sub`)."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return refs[arg]
        if fn == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return f"arn:aws:local:{region}:{account}:{attribute.lower()}/{refs[logical]}"
        if fn == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::URLSuffix": "localhost"}
            return re.sub(r"\$\{([^}]+)\}", lambda m: pseudo.get(m[1]) or refs[m[1]], text)
    return value
