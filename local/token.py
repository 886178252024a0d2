"""`make token USER=alice`: print a token the local stack accepts for the account key `alice`.

    python -m local.token alice [--expires-in SECONDS] [--auth-age SECONDS] [--claim name=value ...]

`--auth-age` says how long ago the user signed in (the token's `auth_time`; default: now), to
try the recent sign-in that dangerous actions need.

Only the token goes to stdout, so `TOKEN=$(make token USER=alice)` works."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from local.auth import DEFAULT_TOKEN_TTL
from local.config import STATE_DIR
from local.identity import token_issuer
from local.template import load_template


def _claim(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    try:
        return name, json.loads(value)  # numbers, booleans, lists as JSON; anything else as text
    except json.JSONDecodeError:
        return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description="Print a token for the local stack.")
    parser.add_argument("sub", nargs="?", default="alice", help="the account key (JWT sub), default alice")
    parser.add_argument("--expires-in", type=int, default=DEFAULT_TOKEN_TTL, help="lifetime in seconds (default 3600)")
    parser.add_argument(
        "--auth-age",
        type=int,
        default=0,
        metavar="SECONDS",
        help="the sign-in (auth_time) was this many seconds ago (default 0: now)",
    )
    parser.add_argument(
        "--claim",
        type=_claim,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="add or override a claim (JSON values allowed; null removes it)",
    )
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.sub.strip():
        parser.error("the account key must not be empty")
    if args.auth_age < 0:
        parser.error("--auth-age must not be negative")
    issuer = token_issuer(load_template(), state_dir=args.state_dir)
    claims = {"auth_time": int(time.time()) - args.auth_age, **dict(args.claim)}
    print(issuer.issue(args.sub, expires_in=args.expires_in, **claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
