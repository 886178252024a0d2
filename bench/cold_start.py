"""Cold start: each function's import-and-init in fresh interpreters, side by side with a bare
`import boto3` plus one client, in the same run (budget: within 1.6x, DESIGN §10).

The functions create their settings, clients and services lazily, on their first request, so
the fair comparison is the time to the first answer: the function imports its handler module
and answers its first sample event (`events/<function>/`, a GET where it has one); the baseline
imports boto3, creates a client and makes one call. Every AWS call on both sides gets the same
canned reply through botocore's `before-send` hook (no network, no moto). The import column is
shown too (for the baseline it includes creating the client).

Rounds alternate the baseline and the functions, so machine noise lands on both alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from local.intrinsics import Resolver, environment_strings, parameter_values
from local.template import ROOT, functions, load_template

BUDGET = 1.6
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))

# Every AWS call gets the same canned reply: registered on boto3's default session before any
# client exists, so the clients a function creates lazily get it too. No network, no moto.
CANNED_REPLY = """
import boto3
def canned(request, **_):
    from botocore.awsrequest import AWSResponse
    class Raw:
        def stream(self, **_):
            yield b"{}"
    return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"}, Raw())
boto3.setup_default_session()
boto3.DEFAULT_SESSION.events.register("before-send", canned)
"""

# The yardstick: import boto3, create one client, make one call.
BASELINE = (
    """
import time
start = time.perf_counter()
"""
    + CANNED_REPLY
    + """
client = boto3.client("dynamodb")
init = time.perf_counter()
client.get_item(TableName="bench-table", Key={"PK": {"S": "x"}, "SK": {"S": "y"}})
print(init - start, time.perf_counter() - start)
"""
)

# A cold container: import the handler module (the functions build their settings, clients and
# services lazily, on the first request), then answer the function's first sample event.
FUNCTION = (
    """
import json, sys, time
start = time.perf_counter()
"""
    + CANNED_REPLY
    + """
import app
init = time.perf_counter()
class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 300_000
event = json.load(open(sys.argv[1]))
try:
    app.lambda_handler(event, Context())
except Exception:
    pass  # canned replies need not satisfy every handler: the time to its answer is what counts
print(init - start, time.perf_counter() - start)
"""
)


def _resolved(variables: dict[str, object]) -> dict[str, str]:
    """A function's environment as the template defines it, with every resource a stand-in name
    (nothing is called: the first request gets canned replies)."""
    template = load_template()
    resolver = Resolver(
        template,
        parameters=parameter_values(template, {"JwtIssuer": "https://issuer.example.test/", "JwtAudience": "bench"}),
        pseudo={
            "AWS::StackName": "bench",
            "AWS::Region": "eu-west-1",
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        },
        refs={logical: f"bench-{logical.lower()}" for logical in template["Resources"]},
        placeholder=lambda logical, attribute: f"arn:aws:bench:eu-west-1:123456789012:{logical}/{attribute}",
    )
    return environment_strings(resolver(variables))


def _environment(code_uri: str, variables: dict[str, object]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / code_uri), str(ROOT / "layers" / "common")]),
        AWS_REGION="eu-west-1",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # a placeholder: nothing reaches AWS
        AWS_LAMBDA_FUNCTION_NAME="bench",
    )
    env.update(_resolved(variables))
    return env


def _once(code: str, env: dict[str, str], cwd: Path, *args: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True, text=True, check=True
    ).stdout
    init, first = out.strip().splitlines()[-1].split()
    return float(init), float(first)


def _first_event(code_uri: str) -> Path:
    """The function's sample event to answer first: a GET if it has one."""
    samples = sorted((ROOT / "events" / Path(code_uri).name).glob("*.json"))
    gets = [p for p in samples if json.loads(p.read_text()).get("routeKey", "").startswith("GET ")]
    return (gets or samples)[0]


def measure() -> dict[str, list[tuple[float, float]]]:
    specs = functions(load_template())
    baseline_env = _environment("layers/common", {})
    samples: dict[str, list[tuple[float, float]]] = {"baseline": [], **{name: [] for name in specs}}
    for _ in range(ROUNDS):
        samples["baseline"].append(_once(BASELINE, baseline_env, ROOT))
        for name, spec in specs.items():
            env = _environment(spec.code_uri, spec.environment)
            samples[name].append(_once(FUNCTION, env, ROOT / spec.code_uri, str(_first_event(spec.code_uri))))
    return samples


def main() -> None:
    samples = measure()
    base = samples.pop("baseline")
    base_init = statistics.median(s[0] for s in base)
    base_first = statistics.median(s[1] for s in base)
    print(f"Cold start in a fresh interpreter, median of {ROUNDS} rounds (budget {BUDGET}x, on the first answer)")
    print(f"{'':<28}{'import (+ client)':>22}{'to first answer':>24}")
    print(f"{'function':<28}{'ms':>10}{'ratio':>8}{'':>4}{'ms':>12}{'ratio':>8}  verdict")
    print(
        f"{'import boto3 + one client':<28}{base_init * 1000:>10.0f}{1:>8.2f}{'':>4}{base_first * 1000:>12.0f}{1:>8.2f}"
    )
    results = {}
    for name, values in samples.items():
        init = statistics.median(s[0] for s in values)
        first = statistics.median(s[1] for s in values)
        ratio = first / base_first
        results[name] = {"import": init / base_init, "first_answer": ratio}
        print(
            f"{name:<28}{init * 1000:>10.0f}{init / base_init:>8.2f}{'':>4}{first * 1000:>12.0f}{ratio:>8.2f}"
            f"  {'within' if ratio <= BUDGET else 'OVER'}"
        )
    if os.environ.get("BENCH_JSON"):
        print(json.dumps(results))
