"""`make run-schedule NAME=...`: run a scheduled function of the running local stack now.

    python -m local.schedule NAME [--url http://127.0.0.1:3000]

NAME is a schedule's name (one the template declares or one the code created), a template
schedule's event name, or a function (logical id such as PreauthReleaseFunction, or its folder
such as preauth_release). The function runs inside the running `make dev`, on its data, with the
payload its schedule would deliver. `--list` shows the schedules that target the functions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx

from local.config import RUNNING_FILE, STATE_DIR


def running_stack_url(state_dir: Path) -> str | None:
    try:
        url = json.loads((state_dir / RUNNING_FILE).read_text())["base_url"]
    except (FileNotFoundError, KeyError, ValueError):
        return None
    return str(url)


def ask_running_stack(url: str | None, request: Callable[[str], httpx.Response]) -> int:
    """Send `request(base URL)` to the running local stack (`make dev`) and print its JSON
    answer; the command's exit status."""
    if url is None:
        print("error: no local stack is running; start it with `make dev`", file=sys.stderr)
        return 1
    try:
        response = request(url)
    except httpx.ConnectError:
        print(f"error: no local stack answers at {url}; start it with `make dev`", file=sys.stderr)
        return 1
    print(json.dumps(response.json(), indent=2))
    return 0 if response.is_success else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.schedule", description="Run a scheduled function now.")
    parser.add_argument("name", nargs="?", help="schedule, schedule event, or function name")
    parser.add_argument("--list", action="store_true", help="list the schedules of the running stack")
    parser.add_argument("--url", help="base URL of the running stack (default: the one `make dev` started)")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.name and not args.list:
        parser.error("give a NAME (make run-schedule NAME=...) or --list")

    def run(url: str) -> httpx.Response:
        if args.list:
            return httpx.get(f"{url}/_local/schedules", timeout=10)
        return httpx.post(f"{url}/_local/schedules/{quote(args.name, safe='')}/run", timeout=120)

    return ask_running_stack(args.url or running_stack_url(args.state_dir), run)


if __name__ == "__main__":
    sys.exit(main())
