"""State that survives a restart: a stack that keeps its state saves it on stop and the next one
reads the same account, card, hold schedule, avatar, Stripe customer and clock back; starting
with the saved state cleared (`make dev RESET=1`) starts empty."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Caller, wait_for
from tests.e2e.test_avatar_e2e import settled, upload
from tests.support import corpus

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _stack(state_dir: Path, port: int = 0) -> LocalStack:
    """A stack keeping its state in `state_dir` (on `port`: `make dev` always takes the same one,
    and the avatar URLs it stored name it)."""
    return LocalStack(state_dir=state_dir, keep_state=True, port=port, stack_name=f"keep-{uuid.uuid4().hex[:6]}")


def _seen(stack: LocalStack, caller: Caller) -> dict[str, Any]:
    """What the user sees of their account, card and avatar, and the clock."""
    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        auth = {"Authorization": f"Bearer {stack.issue_token(caller.sub)}"}
        account = api.get("/v1/account", headers=auth)
        assert account.status_code == 200, account.text
        cards = api.get("/v1/billing/payment-methods", headers=auth).json()["payment_methods"]
        avatar = account.json()["avatar"]
        image = httpx.get(avatar["url"], timeout=10)
        assert image.status_code == 200
        return {
            "user_id": account.json()["user_id"],
            "cards": [(c["id"], c["last4"], c["default"], c["hold"]["id"], c["hold"]["status"]) for c in cards],
            "avatar": (avatar["url"].rsplit("/", 1)[-1], image.content),
            "clock_hours": round(api.get("/_local/clock").json()["offset_seconds"] / 3600),
            "schedules": sorted(
                s["name"]
                for s in api.get("/_local/schedules").json()["schedules"]
                if s["name"].startswith("release-hold_")  # those the code made (the template's are made again)
            ),
        }


def test_a_restart_keeps_the_account_card_avatar_and_clock(tmp_path: Path) -> None:
    sub = f"keep-{uuid.uuid4().hex[:8]}"
    with _stack(tmp_path) as first:
        caller = Caller(sub=sub, token=first.issue_token(sub), user_id=f"keep_{uuid.uuid4().hex[:8]}")
        with httpx.Client(base_url=first.base_url, timeout=30) as api:
            assert api.post("/v1/account", json={"user_id": caller.user_id}, headers=caller.auth).status_code == 201
            card = api.post(
                "/v1/billing/payment-methods",
                json={"payment_method": "pm_card_visa"},
                headers={**caller.auth, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert card.status_code == 201, card.text
            upload(api, caller, corpus.photo_jpeg(), "image/jpeg")
            wait_for(lambda: settled(api, caller, "ready"), timeout=60)
            assert api.post("/_local/clock/advance", json={"hours": 2}).status_code == 200
        before = _seen(first, caller)

    manifest = json.loads((tmp_path / "state" / "manifest.json").read_text())
    assert manifest["counts"]["items"] > 0
    assert manifest["counts"]["objects"] >= 1
    with _stack(tmp_path, first.port) as second:
        after = _seen(second, caller)
        # Stripe still knows the customer and the card: subscribing charges it
        with httpx.Client(base_url=second.base_url, timeout=30) as api:
            auth = {"Authorization": f"Bearer {second.issue_token(sub)}", "Idempotency-Key": str(uuid.uuid4())}
            subscribed = api.put("/v1/billing/subscription", json={"plan": "developer"}, headers=auth)
            assert (subscribed.status_code, subscribed.json()["status"]) == (200, "active"), subscribed.text

    assert after == before
    assert len(after["schedules"]) == 1  # the hold is still released at its time
    assert before["clock_hours"] == 2

    second.saved_state.clear()  # make dev RESET=1
    with _stack(tmp_path) as empty, httpx.Client(base_url=empty.base_url, timeout=30) as api:
        auth = {"Authorization": f"Bearer {empty.issue_token(sub)}"}
        assert api.get("/v1/account", headers=auth).status_code == 404
        assert api.get("/_local/clock").json()["offset_seconds"] == 0
