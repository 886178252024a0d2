"""`make token USER=alice`: print a token the local stack accepts for the account key `alice`.

    python -m local.token alice [--expires-in SECONDS] [--claim name=value ...]

Only the token goes to stdout, so `TOKEN=$(make token USER=alice)` works."""

from __future__ import annotations

import argparse
import json
import sys
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
    issuer = token_issuer(load_template(), state_dir=args.state_dir)
    print(issuer.issue(args.sub, expires_in=args.expires_in, **dict(args.claim)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
