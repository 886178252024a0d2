"""template.yaml: lint, the SAM transform, and the routes, auth and policies it declares."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cfnlint.api import lint_file

from docs.openapi import function_module
from local.template import ROOT, functions, http_routes, resources

# Routes that answer without a JWT; everything else sits behind the authorizer.
PUBLIC_ROUTES = {"GET /v1/users/{user_id}", "GET /v1/plans", "POST /v1/webhooks/stripe"}


def test_cfn_lint_finds_nothing() -> None:
    # the checks the cfn-lint CLI runs by default (errors and warnings), as `make test` runs it
    matches = lint_file(ROOT / "template.yaml")
    assert [str(m) for m in matches] == []


def test_the_sam_transform_succeeds_offline(transformed: dict[str, Any]) -> None:
    types = {r["Type"] for r in transformed["Resources"].values()}
    assert {
        "AWS::Lambda::Function",
        "AWS::ApiGatewayV2::Api",
        "AWS::DynamoDB::Table",
        "AWS::Lambda::LayerVersion",
    } <= types


def test_every_template_route_has_a_handler_route_and_the_reverse(template: dict[str, Any]) -> None:
    specs = functions(template)
    declared: dict[str, set[str]] = {}
    for route in http_routes(template):
        declared.setdefault(route.function, set()).add(route.route_key)
    for name, spec in specs.items():
        app = getattr(function_module(spec.code_uri), "app", None)
        if app is None:  # not an HTTP function (S3 events, schedules): it must have no routes
            assert name not in declared, name
            continue
        handled = {
            f"{method} {re.sub(r'<(\w+)>', r'{\1}', path)}"
            for path, operations in app.get_openapi_schema().paths.items()
            for method in operations.model_dump(exclude_none=True)
            if method in {"get", "post", "put", "patch", "delete"}
            for method in [method.upper()]
        }
        assert handled == declared.get(name, set()), name


def test_only_the_public_routes_skip_the_jwt_authorizer(template: dict[str, Any], transformed: dict[str, Any]) -> None:
    assert {r.route_key for r in http_routes(template) if r.public} == PUBLIC_ROUTES
    api = next(r for r in transformed["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api")
    body = api["Properties"]["Body"]
    assert body["components"]["securitySchemes"]["JwtAuthorizer"]["type"] == "oauth2"
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            key = f"{method.upper()} {path}"
            security = operation.get("security", [])
            if key in PUBLIC_ROUTES:
                assert security == [{"NONE": []}], key  # how SAM writes `Authorizer: NONE`
            else:
                assert security == [{"JwtAuthorizer": []}], key


def test_functions_run_python_313_on_arm64(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    for name, resource in resources(template, "AWS::Serverless::Function").items():
        assert "Runtime" not in resource["Properties"], name
        assert "Architectures" not in resource["Properties"], name


def test_every_function_logs_to_its_own_group_with_retention(template: dict[str, Any]) -> None:
    groups = resources(template, "AWS::Logs::LogGroup")
    for name, resource in resources(template, "AWS::Serverless::Function").items():
        group = resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in resource["Properties"].get("Policies", []):
        assert isinstance(policy, dict), "policies are statements or SAM policy templates, never managed names"
        found.extend(policy.get("Statement", []))
    return found


def test_policies_are_least_privilege(template: dict[str, Any]) -> None:
    for name, resource in resources(template, "AWS::Serverless::Function").items():
        for policy in resource["Properties"].get("Policies", []):
            # SAM's DynamoDBCrudPolicy grants Scan; no request path may scan.
            assert "DynamoDBCrudPolicy" not in policy, name
        for statement in _statements(resource):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert statement["Resource"] != "*", name
            assert not any(a.endswith("*") for a in actions), name
            assert "dynamodb:Scan" not in actions, name


def test_the_table_matches_the_design(template: dict[str, Any]) -> None:
    props = template["Resources"]["AccountTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert {(a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]} >= {
        ("PK", "S"),
        ("SK", "S"),
    }
    idempotency = template["Resources"]["IdempotencyTable"]["Properties"]
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_the_layer_is_built_by_sam_from_pinned_requirements(template: dict[str, Any]) -> None:
    layer = template["Resources"]["CommonLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"  # build/Makefile (tests/template/test_build.py)
    folder = ROOT / layer["Properties"]["ContentUri"]
    assert (folder / "account_billing" / "__init__.py").exists()  # the package sits directly in it
    requirements = [
        line.split("#")[0].strip()
        for line in (folder / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert requirements
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[\w.]+", line) for line in requirements), requirements
    # stripe and Pillow belong to the functions that use them; aiohttp slows every import of stripe
    assert not any(line.lower().startswith(("aiohttp", "pillow")) for line in requirements)


def test_every_function_has_sample_events(template: dict[str, Any]) -> None:
    for spec in functions(template).values():
        folder = ROOT / "events" / Path(spec.code_uri).name
        assert list(folder.glob("*.json")), f"no sample events in {folder}"
