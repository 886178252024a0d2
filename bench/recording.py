"""A cold-start scenario as recorded (bench/record.py) and replayed (bench/cold_start.py): the
artifact, its environment and event, what its answer must contain, and the HTTP exchanges."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.replay import Exchange

RECORDINGS = Path(__file__).with_name("recordings")


@dataclass
class Recording:
    scenario: str
    source: str  # the artifact's folder, relative to the project
    handler: str
    expect: dict[str, Any]
    environment: dict[str, str]  # endpoints as `{aws}` and `{stripe}`
    event: dict[str, Any]
    exchanges: list[Exchange]
    sign_webhook: str | None = None  # the signing secret: the event is signed again at each run

    @property
    def path(self) -> Path:
        return RECORDINGS / f"{self.scenario.replace(':', '-')}.json"

    def save(self) -> None:
        data = {
            "scenario": self.scenario,
            "source": self.source,
            "handler": self.handler,
            "expect": self.expect,
            "sign_webhook": self.sign_webhook,
            "environment": self.environment,
            "event": self.event,
            "exchanges": [exchange.to_json() for exchange in self.exchanges],
        }
        RECORDINGS.mkdir(exist_ok=True)
        self.path.write_text(json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> Recording:
        data = json.loads(path.read_text())
        return cls(
            scenario=data["scenario"],
            source=data["source"],
            handler=data["handler"],
            expect=data["expect"],
            environment=data["environment"],
            event=data["event"],
            exchanges=[Exchange.from_json(exchange) for exchange in data["exchanges"]],
            sign_webhook=data.get("sign_webhook"),
        )

    def event_now(self) -> dict[str, Any]:
        """The event as delivered now (a webhook's signature is only good for minutes)."""
        return sign(self.event, self.sign_webhook) if self.sign_webhook else self.event

    def environment_at(self, endpoint: str) -> dict[str, str]:
        """The environment a child process gets: AWS and Stripe reached at `endpoint`, Lambda's
        runtime API named as Lambda names it, and no configuration of this machine's (AWS config
        files, proxies) in the way."""
        env = {
            name: value.replace("{aws}", endpoint).replace("{stripe}", endpoint)
            for name, value in self.environment.items()
        }
        env.update(
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
            AWS_LAMBDA_RUNTIME_API="127.0.0.1:9001",  # as Lambda's runtime sets it (the child stands in for it)
            NO_PROXY="127.0.0.1,localhost",
            TZ=":UTC",
            LANG="C.UTF-8",
        )
        return env

    def answered(self, response: Any) -> bool:
        """The response is the successful answer the scenario expects."""
        return contains(response, self.expect)


def contains(actual: Any, expected: Any) -> bool:
    """`actual` has every key and value of `expected` (recursively; a JSON `body` is decoded)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        for key, value in expected.items():
            found = actual.get(key)
            if key == "body" and isinstance(found, str):
                found = json.loads(found)
            if not contains(found, value):
                return False
        return True
    return bool(actual == expected)


def sign(event: dict[str, Any], secret: str) -> dict[str, Any]:
    """An API Gateway event of a webhook delivery, signed now as Stripe signs one."""
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.{event['body']}".encode(), hashlib.sha256).hexdigest()
    return {**event, "headers": {**event["headers"], "stripe-signature": f"t={timestamp},v1={digest}"}}


def recordings() -> dict[str, Recording]:
    return {r.scenario: r for r in map(Recording.load, sorted(RECORDINGS.glob("*.json")))}
