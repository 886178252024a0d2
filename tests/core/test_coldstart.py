"""The garbage collector during a container's start (core.coldstart): paused in Lambda's runtime
only, resumed once the handler has answered (or raised), never resumed when someone else paused it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from account_billing.core import coldstart


@pytest.fixture(autouse=True)
def collector() -> Iterator[None]:
    """Each case starts with the collector running and nothing paused; it runs again afterwards."""
    coldstart.resume_collection()
    gc.enable()
    try:
        yield
    finally:
        coldstart.resume_collection()
        gc.enable()


@coldstart.resumes_collection
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("fail"):
        raise RuntimeError("the first answer failed")
    return {"collecting": gc.isenabled()}


def test_in_lambdas_runtime_the_start_and_first_answer_run_paused_and_collection_resumes_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    coldstart.pause_collection()
    assert not gc.isenabled()
    assert coldstart.collection_paused()
    assert handler({}, None) == {"collecting": False}
    assert gc.isenabled()
    assert not coldstart.collection_paused()
    assert handler({}, None) == {"collecting": True}  # a warm answer runs as any other code


def test_a_first_answer_that_raises_resumes_collection_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    coldstart.pause_collection()
    with pytest.raises(RuntimeError, match="first answer failed"):
        handler({"fail": True}, None)
    assert gc.isenabled()


def test_outside_lambdas_runtime_nothing_is_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)
    coldstart.pause_collection()
    assert gc.isenabled()
    assert handler({}, None) == {"collecting": True}


def test_a_collector_someone_else_paused_stays_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    gc.disable()
    coldstart.pause_collection()  # already paused: not this module's to resume
    handler({}, None)
    assert not gc.isenabled()
