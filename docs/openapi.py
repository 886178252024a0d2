"""Generates `docs/openapi.json`: the OpenAPI document of the whole API, from the code.

Each function's resolver describes its own routes; they are merged with Powertools'
`OpenAPIMerge`. Which routes need the JWT comes from `template.yaml` (the authorizer lives
there), so public routes are marked `security: []`.

    python -m docs.openapi           write docs/openapi.json
    python -m docs.openapi --check   exit 1 if docs/openapi.json is stale
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from local.openapi import TAGS
from local.template import ROOT, functions, http_routes, load_template

OUTPUT = ROOT / "docs" / "openapi.json"
TITLE = "Account & Billing API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Settings → Account and Settings → Billing: profile, User ID, emails, visibility, deletion, "
    "plans, cards with pre-authorization holds, invoices. Errors are RFC 9457 problem documents."
)


def function_module(code_uri: str) -> Any:
    """The handler module of a function, e.g. `functions/profile/` → `functions.profile.app`."""
    package = ".".join(Path(code_uri).parts)
    return importlib.import_module(f"{package}.app")


def build() -> dict[str, Any]:
    template = load_template()
    merge = OpenAPIMerge(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        tags=list(TAGS),
        security_schemes={"jwt": HTTPBearer(bearerFormat="JWT")},
        security=[{"jwt": []}],
        on_conflict="error",
    )
    for spec in sorted(functions(template).values(), key=lambda s: s.code_uri):
        module = function_module(spec.code_uri)
        if not hasattr(module, "app"):  # not an HTTP function (S3 events, schedules)
            continue
        merge.add_schema(module.app.get_openapi_schema(title=TITLE, version=VERSION))
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    for route in http_routes(template):
        operation = document["paths"][route.path][route.method.lower()]
        if route.public:
            operation["security"] = []
    return document


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
