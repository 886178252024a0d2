"""`make dev` as a developer runs it: `python -m local --port N` in its own process."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import python_module, spawn_python_module

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stdout, line by line, readable with a timeout."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def make_dev(port: int, state_dir: Path) -> subprocess.Popen[str]:
    return spawn_python_module("local", "--port", str(port), "--state-dir", str(state_dir))


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, str, Path]]:
    """`make dev` on a free port, up to its banner; yields the process, port, token, state folder."""
    port = free_port()
    process = make_dev(port, tmp_path)
    lines = lines_of(process)
    token = None
    try:
        while token is None:
            line = lines.get(timeout=60)
            if "export TOKEN=" in line:
                token = line.split("export TOKEN=", 1)[1].strip()
        yield process, port, token, tmp_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_make_dev_serves_the_real_handlers_and_stops_cleanly_on_ctrl_c(
    running: tuple[subprocess.Popen[str], int, str, Path],
) -> None:
    process, port, token, state_dir = running
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}

    # The banner's token reaches the real handler: no account yet, then one
    before = httpx.get(f"{base}/v1/account", headers=auth)
    created = httpx.post(f"{base}/v1/account", json={"user_id": "alice"}, headers=auth)
    assert before.status_code == 404
    assert before.headers["content-type"] == "application/problem+json"
    assert created.status_code == 201
    assert (state_dir / "running.json").exists()  # where `make run-schedule` finds it

    # Ctrl-C stops everything: the process exits cleanly and the port is free again
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    _, errors = process.communicate()
    assert "POST /v1/account 201" in errors  # one log line per request
    assert not (state_dir / "running.json").exists()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        process = make_dev(port, tmp_path)
        _, errors = process.communicate(timeout=60)

    assert process.returncode == 1
    assert f"port {port} is already in use" in errors
    assert "Traceback" not in errors


def test_run_schedule_without_a_running_stack_says_so(tmp_path: Path) -> None:
    result = python_module("local.schedule", "Anything", "--state-dir", str(tmp_path))

    assert result.returncode == 1
    assert "no local stack is running" in result.stderr
