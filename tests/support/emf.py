"""The service's metrics: what the code can emit (read from its source) and what it emits (the
Embedded Metric Format objects Powertools serializes, in the tests and in local stacks).

As a pytest plugin (tests/conftest.py), every EMF object a test makes is checked: its dimensions
are bounded (only `service`, valued by the service's name: never an account key, an id, an
address or a path, which would make one metric per value), and its metric names are ones the
code names literally (the inventory of docs/runbook.md). The `emitted_metrics` fixture gives a
test what it emitted.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.metrics import base as metrics_base
from aws_lambda_powertools.metrics.provider.cloudwatch_emf import cloudwatch

from account_billing.core.observability import metrics

ROOT = Path(__file__).resolve().parents[2]
CODE = (ROOT / "layers" / "common" / "account_billing", ROOT / "functions")
SERVICE = "account-billing"  # POWERTOOLS_SERVICE_NAME in template.yaml's Globals
# The only dimensions a metric may have, and their values: Powertools' own `service`.
ALLOWED_DIMENSIONS: dict[str, frozenset[str]] = {"service": frozenset({SERVICE})}

# Calls that name a metric (the argument holding its name) and that add a dimension;
# `count` is core.observability's, called by its bare name (`str.count` is not a metric).
_METRIC_CALLS: dict[str, str | int] = {"add_metric": "name", "single_metric": "name", "count": 0}
_BARE_ONLY = {"count"}
_HELPER = "core/observability.py"
_DIMENSION_CALLS = {"add_dimension", "add_dimensions", "set_default_dimensions"}


@dataclass
class CodeMetrics:
    names: dict[str, list[str]] = field(default_factory=dict)  # metric → where it is counted
    problems: list[str] = field(default_factory=list)  # calls that break the rules


def _literal_names(node: ast.expr) -> list[str] | None:
    """The metric names an argument can take: a string, or either branch of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literal_names(node.body), _literal_names(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def _argument(call: ast.Call, key: str | int) -> ast.expr | None:
    if isinstance(key, int):
        return call.args[key] if len(call.args) > key else None
    keyword = next((k for k in call.keywords if k.arg == key), None)
    return keyword.value if keyword else (call.args[0] if call.args else None)


@cache
def code_metrics() -> CodeMetrics:
    """Every metric the service's code counts (`scan` of its packages and functions)."""
    return scan(sorted(path for base in CODE for path in base.rglob("*.py")))


def scan(paths: list[Path]) -> CodeMetrics:
    """The metrics counted in `paths`, from their source: names must be literals (the inventory
    is static) and no call may add a dimension outside `ALLOWED_DIMENSIONS`."""
    found = CodeMetrics()
    for path in paths:
        where = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        tree = ast.parse(path.read_text(), str(path))
        # core.observability's `count(name)` passes its callers' names on; they are scanned.
        helpers = {
            id(call)
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef) and where.endswith(_HELPER) and fn.name == "count"
            for call in ast.walk(fn)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in helpers:
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in _METRIC_CALLS and not (called in _BARE_ONLY and isinstance(func, ast.Attribute)):
                argument = _argument(node, _METRIC_CALLS[called])
                names = _literal_names(argument) if argument is not None else None
                if names is None:
                    found.problems.append(f"{where}:{node.lineno}: {called}() with a metric name that is not literal")
                    continue
                for name in names:
                    found.names.setdefault(name, []).append(f"{where}:{node.lineno}")
            if called in _DIMENSION_CALLS:
                found.problems.extend(_dimension_problems(node, called, f"{where}:{node.lineno}"))
    return found


def _dimension_problems(call: ast.Call, called: str, where: str) -> list[str]:
    names: list[str | None] = []
    if called == "add_dimension":
        argument = _argument(call, "name")
        names.append(argument.value if isinstance(argument, ast.Constant) and isinstance(argument.value, str) else None)
    else:
        names.extend(k.arg for k in call.keywords)
    return [
        f"{where}: {called}() adds the dimension {name or '(not a literal)'}, not one of {sorted(ALLOWED_DIMENSIONS)}"
        for name in names
        if name not in ALLOWED_DIMENSIONS
    ]


# ---------------------------------------------------------------------------- what is emitted
def metric_points(blob: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, str], list[float]]]:
    """(namespace, metric, dimensions, values) of each metric of an EMF object, per dimension set."""
    for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
        for definition in directive.get("Metrics", []):
            values = blob.get(definition["Name"])
            samples = [float(v) for v in (values if isinstance(values, list) else [values]) if v is not None]
            for dimension_set in directive.get("Dimensions") or [[]]:
                dims = {key: str(blob.get(key)) for key in dimension_set}
                yield directive.get("Namespace", ""), definition["Name"], dims, samples


def emf_problems(blob: Mapping[str, Any]) -> list[str]:
    """What is wrong with an EMF object the code emitted."""
    known = code_metrics().names
    problems = []
    for _, name, dims, _ in metric_points(blob):
        if name not in known:
            problems.append(f"{name}: not a metric the code names literally (docs/runbook.md's inventory)")
        for dimension, value in dims.items():
            allowed = ALLOWED_DIMENSIONS.get(dimension)
            if allowed is None or value not in allowed:
                problems.append(f"{name}: dimension {dimension}={value!r} is not a bounded dimension")
    return problems


class EmittedMetrics:
    """The EMF objects serialized during a test (a function's flush or a single metric)."""

    def __init__(self) -> None:
        self.blobs: list[dict[str, Any]] = []

    def flush(self) -> None:
        """Serialize what the shared Metrics object still holds (a service called directly,
        without the handler's `log_metrics` that flushes at the end of an invocation)."""
        if metrics.metric_set:
            metrics.flush_metrics()

    def values(self, name: str) -> list[float]:
        """Every value emitted for the metric `name`, in order (flushing what is pending)."""
        self.flush()
        found: list[float] = []
        for blob in self.blobs:
            for _, metric, dims, samples in metric_points(blob):
                if metric == name and dims == {"service": SERVICE}:
                    found.extend(samples)
        return found

    def total(self, name: str) -> float:
        return sum(self.values(name))

    def names(self) -> set[str]:
        self.flush()
        return {metric for blob in self.blobs for _, metric, _, _ in metric_points(blob)}


_current: list[EmittedMetrics] = []


def _recording(original: Any) -> Any:
    def serialize(self: Any, *args: Any, **kwargs: Any) -> Any:
        blob = original(self, *args, **kwargs)
        for recorder in _current:
            recorder.blobs.append(dict(blob))
        return blob

    return serialize


@pytest.fixture(autouse=True)
def _metric_rules(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmittedMetrics]:
    recorder = EmittedMetrics()
    monkeypatch.setattr(
        cloudwatch.AmazonCloudWatchEMFProvider,
        "serialize_metric_set",
        _recording(cloudwatch.AmazonCloudWatchEMFProvider.serialize_metric_set),
    )
    monkeypatch.setattr(
        metrics_base.MetricManager, "serialize_metric_set", _recording(metrics_base.MetricManager.serialize_metric_set)
    )
    metrics.clear_metrics()  # what an earlier test left unflushed is not this test's
    _current.append(recorder)
    try:
        yield recorder
    finally:
        _current.remove(recorder)
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() != "true":
        problems = sorted({p for blob in recorder.blobs for p in emf_problems(blob)})
        assert not problems, "metrics emitted against the rules:\n  " + "\n  ".join(problems)


@pytest.fixture
def emitted_metrics(_metric_rules: EmittedMetrics) -> EmittedMetrics:
    """What the test emitted, as EMF (checked against the rules at the end of the test)."""
    return _metric_rules
