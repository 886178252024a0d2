"""A client generated from docs/openapi.json (openapi-python-client) reads like a hand-written SDK
(`api.emails.emails_add`, typed models, problems as `Problem`) and drives a flow against the
local stack: create an account, add an address, verify it from its email, list the addresses."""

from __future__ import annotations

import importlib
import re
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from docs.openapi import OUTPUT
from local.stack import LocalStack
from tests.e2e.conftest import python_module

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PACKAGE = "account_billing_client"
CONFIG = f"project_name_override: account-billing-client\npackage_name_override: {PACKAGE}\npost_hooks: []\n"


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    folder = tmp_path_factory.mktemp("generated-client")
    (folder / "config.yaml").write_text(CONFIG)
    generated = python_module(
        "openapi_python_client",
        "generate",
        "--path",
        str(OUTPUT),
        "--output-path",
        str(folder / PACKAGE),
        "--config",
        str(folder / "config.yaml"),
        "--meta",
        "none",
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout, generated.stdout  # every operation and schema understood
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        return importlib.import_module(PACKAGE)


def operation(sdk: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{sdk.__name__}.api.{name}")


def test_operations_are_grouped_by_area_and_named_by_their_operation_id(sdk: ModuleType) -> None:
    areas = Path(str(sdk.__file__)).parent / "api"

    assert sorted(p.name for p in areas.iterdir() if p.is_dir() and p.name != "__pycache__") == [
        "account",
        "avatar",
        "cards",
        "emails",
        "invoices",
        "spending",
        "subscription",
        "webhooks",
    ]
    emails = sorted(p.stem for p in (areas / "emails").glob("*.py") if p.stem != "__init__")
    assert emails == [
        "emails_add",
        "emails_list",
        "emails_remove",
        "emails_resend_verification",
        "emails_set_primary",
        "emails_verify",
    ]


def test_one_flow_through_the_generated_client(sdk: ModuleType, stack: LocalStack) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    sub = f"sdk-{uuid.uuid4().hex[:10]}"
    client = sdk.AuthenticatedClient(
        base_url=stack.base_url, token=stack.issue_token(sub), raise_on_unexpected_status=True
    )
    address = f"{sub}@example.org"

    created = operation(sdk, "account.account_create").sync(
        client=client, body=models.CreateAccountRequest(user_id=f"u_{sub[4:]}", first_name="Ada")
    )
    added = operation(sdk, "emails.emails_add").sync(client=client, body=models.AddEmailRequest(address=address))
    again = operation(sdk, "emails.emails_add").sync_detailed(
        client=client, body=models.AddEmailRequest(address=address)
    )
    body = httpx.get(f"{stack.base_url}/_local/mailbox", params={"to": address}).json()["messages"][-1]["body"]
    token = re.search(r"token=([A-Za-z0-9_-]+)", body)
    assert token is not None, body
    verified = operation(sdk, "emails.emails_verify").sync(
        client=client, body=models.VerifyEmailRequest(token=token[1])
    )
    listed = operation(sdk, "emails.emails_list").sync(client=client)

    assert isinstance(created, models.AccountView)
    assert (created.user_id, created.profile.first_name) == (f"u_{sub[4:]}", "Ada")
    assert isinstance(added, models.EmailView)
    assert (added.address, added.verified) == (address, False)
    assert again.status_code == 409  # a problem document, typed
    assert isinstance(again.parsed, models.Problem)
    assert again.parsed.status == 409
    assert isinstance(verified, models.EmailView)
    assert verified.verified is True
    assert isinstance(listed, models.EmailList)
    assert {(e.address, e.verified) for e in listed.emails} >= {(address, True)}
