"""What a new user meets in `make dev`: the banner before the API answers, a token whose address
the service accepts, mail links that lead to local pages, and the README's commands (its curl
lines follow PORT; releasing one hold by its schedule's name works as it says)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from account_billing.emails.models import AddEmailRequest
from local.__main__ import banner
from local.auth import TokenIssuer, load_or_create_key
from local.identity import stack_parameters
from local.stack import LocalStack
from local.template import ROOT, load_template
from local.webapp import PREFIX, web_app_parameters
from tests.e2e.conftest import Caller, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

README = (ROOT / "README.md").read_text()


def test_the_banner_hook_runs_before_the_api_answers(tmp_path: Path) -> None:
    seen: list[tuple[bool, str]] = []
    stack = LocalStack(state_dir=tmp_path, on_ready=lambda ready: seen.append((ready.serving, ready.issue_token("a"))))

    with stack:
        answer = httpx.get(f"{stack.base_url}/v1/account", headers={"Authorization": f"Bearer {seen[0][1]}"})

    assert [serving for serving, _ in seen] == [False]  # once, while nothing was answered yet
    assert answer.status_code == 404  # the banner's token works: no account yet


def test_the_default_tokens_address_is_one_the_service_accepts(tmp_path: Path) -> None:
    email = TokenIssuer(load_or_create_key(tmp_path)).claims("alice")["email"]

    assert AddEmailRequest(address=email).address == email


@pytest.mark.usefixtures("account")
def test_the_token_email_becomes_the_verified_primary_address(stack: LocalStack, caller: Caller) -> None:
    primary = httpx.get(f"{stack.base_url}/v1/account", headers=caller.auth).json()["primary_email"]

    assert primary == {"address": f"{caller.sub}@example.com", "verified": True}


def test_mail_links_lead_to_the_local_web_app_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    template = load_template()

    local = stack_parameters(template, {}, web_app_parameters(3001))
    monkeypatch.setenv("LOCAL_PARAM_WebAppUrl", "http://localhost:5173")
    overridden = stack_parameters(template, {}, web_app_parameters(3001))

    assert local["WebAppUrl"] == f"http://localhost:3001{PREFIX}"
    assert local["CorsAllowedOrigin"] == "http://localhost:3001"
    assert overridden["WebAppUrl"] == "http://localhost:5173"


def test_the_local_sign_in_refuses_an_unusable_user(stack: LocalStack) -> None:
    for user in ("", "a b", "x" * 129):
        answer = httpx.post(f"{stack.base_url}{PREFIX}/token", data={"user": user})
        assert answer.status_code == 400, user


def test_the_readme_curl_lines_follow_port() -> None:
    commands = [line for line in README.splitlines() if "curl" in line and "127.0.0.1" in line]

    assert "BASE=http://127.0.0.1:${PORT:-3000}" in README
    assert not [line for line in README.splitlines() if line.lstrip().startswith("curl") and ":3000" in line]
    assert not commands


@pytest.mark.usefixtures("account")
def test_one_hold_is_released_by_its_schedule_name_as_the_readme_shows(
    stack: LocalStack, api: httpx.Client, caller: Caller
) -> None:
    assert "make run-schedule NAME=release-$HOLD" in README
    added = api.post(
        "/v1/billing/payment-methods",
        json={"payment_method": "pm_card_visa"},
        headers={**caller.auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert added.status_code == 201, added.text
    hold = api.get("/v1/billing/payment-methods", headers=caller.auth).json()["payment_methods"][0]["hold"]
    assert hold["status"] == "held"

    ran = api.post(f"/_local/schedules/release-{hold['id']}/run")  # what `make run-schedule` posts

    assert ran.status_code == 200, ran.text
    assert "StripeTaskQueue" in ran.json()["result"]["queue"]  # Scheduler's SQS target, as in production

    def released() -> dict[str, Any] | None:
        hold = api.get("/v1/billing/payment-methods", headers=caller.auth).json()["payment_methods"][0]["hold"]
        return hold if hold["status"] == "released" else None

    after = wait_for(released)  # the queue's worker releases it moments later
    assert after["outcome"] == "canceled"
    assert re.fullmatch(r"[\w-]+", hold["id"])


def test_the_banner_names_the_web_app_the_emails_link_to(stack: LocalStack) -> None:
    text = banner(stack, "a-token", "alice")

    assert f"Web app    http://localhost:{stack.port}{PREFIX}" in text
    assert "export TOKEN=a-token" in text
