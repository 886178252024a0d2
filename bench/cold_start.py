"""Cold start: each function's import-and-init in fresh interpreters, side by side with a bare
`import boto3` plus one client, in the same run (budget: within 1.6x, DESIGN §10).

A second pair of columns follows the cold container to its first answer: the function handles
its first sample event (`events/<function>/`), the baseline makes one DynamoDB call; both get the
same canned DynamoDB reply through botocore's `before-send` hook (no network, no moto), so the
work models build lazily on their first request is counted too.

Rounds alternate the baseline and the functions, so machine noise lands on both alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from local.template import ROOT, functions, load_template

BUDGET = 1.6
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))

CANNED_REPLY = """
def canned(request, **_):
    from botocore.awsrequest import AWSResponse
    class Raw:
        def stream(self, **_):
            yield b"{}"
    return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"}, Raw())
"""

BASELINE = (
    CANNED_REPLY
    + """
import time
start = time.perf_counter()
import boto3
client = boto3.client("dynamodb")
init = time.perf_counter()
client.meta.events.register("before-send.dynamodb", canned)
client.get_item(TableName="bench-table", Key={"PK": {"S": "x"}, "SK": {"S": "y"}})
print(init - start, time.perf_counter() - start)
"""
)

# Import the handler module, then build what its first request builds (settings, clients,
# services): the init a cold container pays before answering; then answer one request.
FUNCTION = (
    CANNED_REPLY
    + """
import json, sys, time
start = time.perf_counter()
import app
from account_billing.wiring import build_containers, dynamodb_client
build_containers()
init = time.perf_counter()
dynamodb_client().meta.events.register("before-send.dynamodb", canned)
class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 300_000
event = json.load(open(sys.argv[1]))
app.lambda_handler(event, Context())
print(init - start, time.perf_counter() - start)
"""
)


def _environment(code_uri: str, variables: dict[str, object]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / code_uri), str(ROOT / "layers" / "common")]),
        AWS_REGION="eu-west-1",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # a placeholder: nothing reaches AWS
        TABLE_NAME="bench-table",
        STAGE="bench",
        AVATAR_BUCKET="bench-avatars",
        AVATAR_BASE_URL="https://avatars.example.test",
        # the billing functions' resources (placeholders: nothing is called)
        IDEMPOTENCY_TABLE_NAME="bench-idempotency",
        STRIPE_SECRET_KEY_PARAMETER="/bench/stripe-secret-key",
        RELEASE_SCHEDULE_GROUP="bench-hold-releases",
        RELEASE_FUNCTION_ARN="arn:aws:lambda:eu-west-1:123456789012:function:bench-preauth-release",
        RELEASE_SCHEDULER_ROLE_ARN="arn:aws:iam::123456789012:role/bench-scheduler",
        RELEASE_DEAD_LETTER_QUEUE_ARN="arn:aws:sqs:eu-west-1:123456789012:bench-dlq",
    )
    env.update({k: v for k, v in variables.items() if isinstance(v, str)})
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
    print(f"Cold start in a fresh interpreter, median of {ROUNDS} rounds (budget {BUDGET}x on import + init)")
    print(f"{'':<28}{'import + init':>22}{'to first answer':>24}")
    print(f"{'function':<28}{'ms':>10}{'ratio':>8}{'':>4}{'ms':>12}{'ratio':>8}  verdict")
    print(
        f"{'import boto3 + one client':<28}{base_init * 1000:>10.0f}{1:>8.2f}{'':>4}{base_first * 1000:>12.0f}{1:>8.2f}"
    )
    results = {}
    for name, values in samples.items():
        init = statistics.median(s[0] for s in values)
        first = statistics.median(s[1] for s in values)
        ratio = init / base_init
        results[name] = {"init": ratio, "first_answer": first / base_first}
        print(
            f"{name:<28}{init * 1000:>10.0f}{ratio:>8.2f}{'':>4}{first * 1000:>12.0f}{first / base_first:>8.2f}"
            f"  {'within' if ratio <= BUDGET else 'OVER'}"
        )
    if os.environ.get("BENCH_JSON"):
        print(json.dumps(results))
