"""Cold start: each function's first successful answer in a fresh interpreter laid out as Lambda
lays it out, side by side with the yardstick (`import boto3` + one client + one call) and a
typical Powertools service, in the same run (budget: 1.3x the yardstick, DESIGN §10).

- Layout (bench/lambda_layout.py): every artifact built by build/lambda_artifact.py, the script
  `sam build` runs, for this machine from this environment's packages, hash-based bytecode
  included and every file dated 1980 as in SAM's zips; each run is a plain `python3.13 -I -S`
  whose `sys.path` is the artifact, the layer and the standard library, nothing else.
- Answers (bench/replay.py, bench/recordings/): what AWS (moto) and Stripe (the simulator)
  answered the function once, recorded by `python -m bench.record`, replayed at the HTTP layer
  by a server on the loopback interface that `AWS_ENDPOINT_URL` and `STRIPE_API_BASE` point
  at: botocore and stripe-python serialize, sign, send and parse every call as in Lambda, and
  the other end answers at once. A run counts only if the function gave its successful answer
  (2xx; the avatar validator published the 20 MB upload; the webhook applied a fresh event)
  and asked for exactly the recorded calls; anything else stops the bench.
- Timing (bench/lambda_child.py): from before the handler's module is imported to the return of
  its first answer, inside the child; the yardsticks are built and answered the same way
  (bench/yardsticks/). Rounds run every scenario in turn (A B C ... A B C), so machine noise
  lands on all alike; the table shows medians, and ratios to the yardstick of the same run.

Knobs: BENCH_ROUNDS (default 7), BENCH_ONLY=profile,stripe_webhook (those and the yardsticks),
BENCH_JSON=1 (the figures as JSON too).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import lambda_layout, uploads
from bench.recording import Recording, recordings
from bench.replay import Replayer, Script

BUDGET = 1.3
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
YARDSTICKS = ("baseline", "peer")
# Large bodies the recordings name; the validator's upload is answered a second time, warm.
BODIES = {"camera_jpeg": uploads.camera_jpeg}
WARM = {"avatar_validator"}
LABELS = {
    "baseline": "import boto3 + client + call",
    "peer": "typical Powertools service",
    "payment_methods:add": "payment_methods: add card",
    "subscriptions:upgrade": "subscriptions: upgrade",
    "avatar_validator": "avatar_validator (20 MB)",
    "stripe_webhook": "stripe_webhook (fresh event)",
    "exports": "exports: start export",
    "account_exports": "account_exports (build, card)",
    "security_notices": "security_notices (sent)",
}


class ReplayMismatch(Exception):
    """A function did not give its recorded successful answer: record it again."""


def _bodies(recording: Recording) -> dict[str, bytes]:
    bodies = {}
    for exchange in recording.exchanges:
        if exchange.body_ref is not None:
            data = BODIES[exchange.body_ref]()
            if uploads.sha256(data) != exchange.body_sha256:
                raise ReplayMismatch(f"{recording.scenario}: {exchange.body_ref} is not the recorded body")
            bodies[exchange.body_ref] = data
    return bodies


def run_once(
    layout: lambda_layout.Layout, replayer: Replayer, recording: Recording, bodies: dict[str, bytes], *options: str
) -> dict[str, Any]:
    """One cold invocation of the scenario, answered from its recording; its report."""
    warm = recording.scenario in WARM
    replayer.load(Script(recording.exchanges * (2 if warm else 1), bodies))
    report = lambda_layout.invoke(
        layout,
        recording.source,
        recording.handler,
        recording.event_now(),
        recording.environment_at(replayer.url),
        *options,
        warm=warm,
    )
    responses = [report["response"], *([report["second_response"]] if warm else [])]
    problems = []
    if not all(recording.answered(response) for response in responses):
        problems.append(f"it answered {responses!r}")
    if replayer.unmatched:
        problems.append(f"no recorded answer for {replayer.unmatched}")
    if replayer.unused():
        problems.append(f"recorded calls not made: {replayer.unused()}")
    if problems:
        raise ReplayMismatch(
            f"{recording.scenario}: {'; '.join(problems)}\n{report['stderr'][-3000:]}\n"
            f"(if its calls changed on purpose: python -m bench.record {recording.scenario})"
        )
    return report


def chosen() -> list[Recording]:
    every = recordings()
    only = [name for name in os.environ.get("BENCH_ONLY", "").split(",") if name]
    unknown = set(only) - set(every)
    if unknown:
        raise SystemExit(f"BENCH_ONLY: no recording named {', '.join(sorted(unknown))} (bench/recordings/)")
    names = [*YARDSTICKS, *(name for name in every if name not in YARDSTICKS and (not only or name in only))]
    return [every[name] for name in names]


def measure(layout: lambda_layout.Layout, scenarios: list[Recording], rounds: int) -> dict[str, list[dict[str, Any]]]:
    bodies = {recording.scenario: _bodies(recording) for recording in scenarios}
    samples: dict[str, list[dict[str, Any]]] = {recording.scenario: [] for recording in scenarios}
    with Replayer() as replayer:
        for _ in range(rounds):
            for recording in scenarios:
                report = run_once(layout, replayer, recording, bodies[recording.scenario])
                samples[recording.scenario].append(report)
    return samples


def summary(samples: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Medians of each scenario's figures, and their ratios to the yardsticks' medians."""
    medians: dict[str, dict[str, float]] = {}
    for name, reports in samples.items():
        keys = [key for key in ("import", "first", "import_cpu", "first_cpu", "warm") if key in reports[0]]
        medians[name] = {key: statistics.median(float(report[key]) for report in reports) for key in keys}
    base, peer = medians["baseline"], medians["peer"]
    for figures in medians.values():
        figures["import_ratio"] = figures["import"] / base["import"]
        figures["ratio"] = figures["first"] / base["first"]
        figures["cpu_ratio"] = figures["first_cpu"] / base["first_cpu"]
        figures["peer_ratio"] = figures["first"] / peer["first"]
        figures["peer_cpu_ratio"] = figures["first_cpu"] / peer["first_cpu"]
        if "warm" in figures:
            figures["cold_ratio"] = (figures["first"] - figures["warm"]) / base["first"]
    return medians


def report(medians: dict[str, dict[str, float]], rounds: int) -> None:
    print(
        f"Cold start in Lambda's layout, answered from recorded AWS and Stripe responses: "
        f"median of {rounds} alternating rounds (budget {BUDGET}x the yardstick, on the first answer)"
    )
    print(f"{'':<32}{'import':>8}{'first successful answer':>46}")
    print(f"{'scenario':<32}{'ms':>8}{'wall ms':>10}{'ratio':>7}{'cpu ms':>9}{'ratio':>7}{'vs peer':>9}  verdict (cpu)")
    for name, figures in medians.items():
        verdict = "" if name in YARDSTICKS else "within" if figures["cpu_ratio"] <= BUDGET else "OVER"
        print(
            f"{LABELS.get(name, name):<32}{figures['import'] * 1000:>8.0f}"
            f"{figures['first'] * 1000:>10.0f}{figures['ratio']:>7.2f}"
            f"{figures['first_cpu'] * 1000:>9.0f}{figures['cpu_ratio']:>7.2f}"
            f"{figures['peer_cpu_ratio']:>9.2f}  {verdict}"
        )
    for name, figures in medians.items():
        if "warm" in figures:
            label, warm = LABELS.get(name, name), figures["warm"] * 1000
            print(
                f"  {label}: a second answer in the same container takes {warm:.0f} ms (the upload's own "
                f"work); the cold start's cost beyond it is {figures['cold_ratio']:.2f}x the yardstick"
            )
    print(
        "(import: loading the handler's module; the yardstick's creates its client there, the functions' on first use."
        "\n cpu: the child's own user+system time, which a machine busy with other work does not inflate as it"
        " does wall time; the verdict is on it)"
    )


def main() -> None:
    started = time.perf_counter()
    scenarios = chosen()
    cache = Path(sys.prefix) / "bench-dependencies"  # compiled dependencies, reused while the venv lasts
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as scratch:
        layout = lambda_layout.build(Path(scratch), cache)
        medians = summary(measure(layout, scenarios, ROUNDS))
    report(medians, ROUNDS)
    print(f"({time.perf_counter() - started:.0f} s)")
    if os.environ.get("BENCH_JSON"):
        print(json.dumps(medians))
