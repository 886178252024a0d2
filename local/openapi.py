"""The merged OpenAPI document of every function, and a Swagger UI page that works offline
(the Swagger UI assets bundled with Powertools are served by the local stack itself)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from importlib import resources
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server, Tag
from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

from local.template import HttpRoute

TITLE = "Account & Billing API"
SECURITY_SCHEME = "jwt"
# One tag per area of the API: every operation carries one (tests/api checks it), and a
# generated client groups its operations by them (`emails`, `cards`...).
TAGS = [
    Tag(name="Account", description="The caller's account: profile, User ID, visibility, public profile, deletion"),
    Tag(name="Emails", description="Email addresses: add, verify, make primary, remove"),
    Tag(name="Avatar", description="Avatar upload (a presigned S3 POST form) and removal"),
    Tag(name="Cards", description="Cards, verified by a temporary pre-authorization hold"),
    Tag(name="Subscription", description="Plans, the current subscription, plan changes and their previews"),
    Tag(name="Invoices", description="The billing history and statements"),
    Tag(name="Spending", description="Month-to-date spend against the plan's limit; limit-increase requests"),
    Tag(name="Webhooks", description="Stripe's signed events"),
]
SWAGGER_ASSETS = {
    "/docs/swagger-ui-bundle.min.js": ("swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
    "/docs/swagger-ui.min.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
}


def merged_document(
    modules: Mapping[str, ModuleType],
    routes: Iterable[HttpRoute],
    *,
    server_url: str,
    version: str = "local",
) -> dict[str, Any]:
    """One OpenAPI document from the resolvers (`app`) of the functions' modules.

    Routes behind the JWT authorizer require the bearer token; public routes do not."""
    merge = OpenAPIMerge(
        title=TITLE,
        version=version,
        tags=list(TAGS),
        servers=[Server(url=server_url, description="the local stack")],
        security_schemes={SECURITY_SCHEME: HTTPBearer(bearerFormat="JWT")},
        security=[{SECURITY_SCHEME: []}],
        on_conflict="error",
    )
    for module in modules.values():
        resolver = getattr(module, "app", None)
        if resolver is not None and hasattr(resolver, "get_openapi_schema"):
            merge.add_schema(resolver.get_openapi_schema(title=TITLE, version=version))
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    for route in routes:
        operation = document.get("paths", {}).get(route.path, {}).get(route.method.lower())
        if route.public and operation is not None:
            operation["security"] = []
    return document


def swagger_page(document: Mapping[str, Any]) -> str:
    # The document goes inside a <script>: no "</" may close it early.
    spec = json.dumps(document).replace("</", "<\\/")
    return generate_swagger_html(
        spec=spec,
        swagger_js="/docs/swagger-ui-bundle.min.js",
        swagger_css="/docs/swagger-ui.min.css",
        swagger_base_url="/docs",
        oauth2_config=None,
        persist_authorization=True,
    )


def swagger_asset(path: str) -> tuple[bytes, str] | None:
    """A Swagger UI asset bundled with Powertools, and its content type."""
    if path not in SWAGGER_ASSETS:
        return None
    name, content_type = SWAGGER_ASSETS[path]
    package = resources.files("aws_lambda_powertools.event_handler.openapi.swagger_ui")
    return package.joinpath(name).read_bytes(), content_type
