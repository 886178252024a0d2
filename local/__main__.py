"""`make dev`: run the whole service on this machine.

    python -m local [--port 3000] [--param Name=Value ...] [--user alice]

Prints a banner with the URL, a ready token and the docs before the API answers its first
request, logs one line per request, and stops everything on Ctrl-C (or SIGTERM). A busy port is
an error (exit status 1)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from local.config import HOST, RUNNING_FILE, STATE_DIR, LiveStripeKeyError
from local.gateway import PortInUseError
from local.state import StateNotRestored

if TYPE_CHECKING:
    from local.stack import LocalStack


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description="Run the service locally (make dev).")
    parser.add_argument("--port", type=int, default=3000, help="port of the HTTP API (default 3000)")
    parser.add_argument("--host", default=HOST, help=argparse.SUPPRESS)
    parser.add_argument("--user", default="alice", help="account key (sub) of the token in the banner")
    parser.add_argument(
        "--param",
        type=_parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter's value (also LOCAL_PARAM_<Name>=VALUE in the environment)",
    )
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR, help=argparse.SUPPRESS)
    parser.add_argument(
        "--reset", action="store_true", help="start empty: forget the data kept from the last run (make dev RESET=1)"
    )
    return parser.parse_args(argv)


def banner(stack: LocalStack, token: str, user: str) -> str:
    url = stack.base_url
    tables = (
        ", ".join(stack.provisioned.describe().get("AWS::DynamoDB::Table", {}).values()) if stack.provisioned else ""
    )
    lines = [
        "",
        "Account & Billing is running locally (embedded AWS, no Docker).",
        f"  API        {url}",
        f"  Docs       {url}/docs   (OpenAPI: {url}/openapi.json)",
        f"  Mailbox    {url}/_local/mailbox",
        f"  Web app    {stack.resolver.parameters.get('WebAppUrl')}   (where the emails' links lead)",
        f"  AWS        {stack.moto_url}   (moto; tables: {tables or 'none'})",
        f"  Stripe     {stack.stripe.description}",
        "",
        f"  Token for {user} (valid 1 h; `make token USER=bob` for another):",
        f"    export TOKEN={token}",
        "",
        "  Try:",
        f"    curl -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' "
        f'-d \'{{"user_id": "{user}"}}\' {url}/v1/account',
        f'    curl -H "Authorization: Bearer $TOKEN" {url}/v1/account',
        "",
        "Ctrl-C stops everything.",
        "",
    ]
    if stack.runtime is not None and stack.runtime.broken:
        broken = ", ".join(stack.runtime.broken)
        lines[1:1] = [f"!! These functions failed to initialize (see the log above; retried on each call): {broken}"]
    return "\n".join(lines)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    for noisy in ("httpx", "stripe"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):  # a developer's real AWS stays out of it
        os.environ.pop(name, None)
    # Ctrl-C and SIGTERM stop the stack, even when started with SIGINT ignored (as `cmd &` does).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    from local.stack import LocalStack  # noqa: PLC0415 -- after argument errors, which need no moto

    try:
        stack = LocalStack(
            port=args.port,
            host=args.host,
            stack_name="local",
            parameters=dict(args.param),
            state_dir=args.state_dir,
            on_ready=lambda ready: print(banner(ready, ready.issue_token(args.user), args.user), flush=True),
            keep_state=True,
        )
    except LiveStripeKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    running = args.state_dir / RUNNING_FILE
    print("Starting: AWS in moto, the template's resources, Stripe, the functions...", file=sys.stderr, flush=True)
    if args.reset:
        stack.saved_state.clear()
    try:
        stack.start()
    except PortInUseError:
        print(
            f"error: port {args.port} is already in use (another `make dev`?). "
            f"Stop it, or pick another port: make dev PORT={args.port + 1}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    except StateNotRestored as exc:
        print(f"error: the data kept from the last run could not be restored ({exc}).", file=sys.stderr)
        print("Start empty with: make dev RESET=1", file=sys.stderr)
        return 1
    try:
        running.write_text(json.dumps({"base_url": stack.base_url, "pid": os.getpid()}))
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopping...", file=sys.stderr, flush=True)
    finally:
        with contextlib.suppress(FileNotFoundError, ValueError):
            if json.loads(running.read_text()).get("pid") == os.getpid():
                running.unlink()
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
