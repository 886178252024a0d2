"""The template's CloudWatch alarms, evaluated over what the local stack observed
(`local.telemetry`), so a developer sees the signals production would raise.

An alarm is evaluated as CloudWatch does over its latest period only (the window of its
`Period` ending now; in AWS it also needs `DatapointsToAlarm` of `EvaluationPeriods` periods):
the statistic of its metric (or of each metric of its metric math, then the expression),
compared with its threshold; missing data as its `TreatMissingData` says, once the stack has
run for the alarm's whole evaluation window (before that, like a new alarm: INSUFFICIENT_DATA).

Observable locally: the functions' own metrics (EMF), AWS/Lambda Invocations, Errors and
Duration, AWS/ApiGateway Count, 4xx, 5xx, Latency and IntegrationLatency (what the stack
measures as it plays them), and AWS/SQS queue depths (read from moto). Anything else (SES's
sending metrics, Lambda throttles, which never happen locally, a resource the stack does not
emulate) leaves the alarm NOT_EVALUATED, with the reason.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from local.telemetry import DataPoint, dimensions_of

# What the stack measures of AWS's own namespaces; any other namespace not under AWS/ is a
# function's EMF.
OBSERVED = {
    "AWS/Lambda": {"Invocations", "Errors", "Duration"},
    "AWS/ApiGateway": {"Count", "4xx", "5xx", "Latency", "IntegrationLatency"},
}
GAUGES = {"AWS/SQS": {"ApproximateNumberOfMessagesVisible"}}
NEVER_LOCALLY = {("AWS/Lambda", "Throttles"): "functions are never throttled locally (no concurrency limit)"}

_COMPARE: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanThreshold": (">", lambda v, t: v > t),
    "GreaterThanOrEqualToThreshold": (">=", lambda v, t: v >= t),
    "LessThanThreshold": ("<", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("<=", lambda v, t: v <= t),
}


class NotEvaluable(Exception):
    """The alarm reads something the local stack cannot observe."""


@dataclass
class AlarmState:
    logical_id: str
    alarm_name: str
    state: str  # OK, ALARM, INSUFFICIENT_DATA or NOT_EVALUATED
    reason: str
    value: float | None = None
    threshold: float | None = None
    comparison: str = ""
    period: int = 0
    metrics: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "Average": lambda v: sum(v) / len(v),
    "Minimum": min,
    "Maximum": max,
    "SampleCount": lambda v: float(len(v)),
}


def statistic(stat: str, values: list[float]) -> float | None:
    """A CloudWatch statistic of the samples (`pNN` percentiles by nearest rank)."""
    if stat not in _AGGREGATES and not re.fullmatch(r"p\d{1,2}(\.\d+)?", stat):
        raise NotEvaluable(f"the statistic {stat} is not evaluated locally")
    if not values:
        return None
    if stat in _AGGREGATES:
        return float(_AGGREGATES[stat](values))
    ordered = sorted(values)
    return ordered[max(1, math.ceil(float(stat[1:]) / 100 * len(ordered))) - 1]


def _describe(namespace: str, name: str, dimensions: Mapping[str, str], stat: str) -> str:
    dims = ", ".join(f"{k}={v}" for k, v in sorted(dimensions.items()))
    return f"{namespace} {name} {{{dims}}} {stat}"


class Evaluator:
    """Evaluates resolved alarm properties over data points and gauges, at `now`."""

    def __init__(
        self,
        points: list[DataPoint],
        gauge: Callable[[str, str, Mapping[str, str]], float | None],
        now: float,
        running_for: float,
    ) -> None:
        self.gauge = gauge
        self.now = now
        self.running_for = running_for
        self._series: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[DataPoint]] = {}
        for point in points:
            self._series.setdefault((point.namespace, point.name, point.dimensions), []).append(point)

    # ------------------------------------------------------------------ one metric
    def metric_value(
        self, namespace: str, name: str, dimensions: Mapping[str, str], stat: str, period: int
    ) -> float | None:
        if (namespace, name) in NEVER_LOCALLY:
            return None
        if name in GAUGES.get(namespace, ()):
            return self.gauge(namespace, name, dimensions)
        if namespace.startswith("AWS/") and name not in OBSERVED.get(namespace, ()):
            raise NotEvaluable(f"{namespace} {name} is not observed by the local stack")
        since = self.now - period
        samples = [
            p.value
            for p in self._series.get((namespace, name, dimensions_of(dimensions)), [])
            if since < p.timestamp <= self.now
        ]
        return statistic(stat, samples)

    # ------------------------------------------------------------------ one alarm
    def evaluate(self, logical_id: str, props: Mapping[str, Any]) -> AlarmState:
        comparison = str(props.get("ComparisonOperator", ""))
        state = AlarmState(
            logical_id, str(props.get("AlarmName") or logical_id), "NOT_EVALUATED", "", comparison=comparison
        )
        try:
            if comparison not in _COMPARE:
                raise NotEvaluable(f"{comparison or 'no'} comparison (anomaly detection) is not evaluated locally")
            state.threshold = float(props["Threshold"])
            if "Metrics" in props:
                state.value, state.period, state.metrics = self._math(props["Metrics"])
            else:
                stat = str(props.get("ExtendedStatistic") or props.get("Statistic") or "")
                dims = {d["Name"]: str(d["Value"]) for d in props.get("Dimensions", [])}
                state.period = int(props["Period"])
                state.metrics = [_describe(props["Namespace"], props["MetricName"], dims, stat)]
                state.value = self.metric_value(props["Namespace"], props["MetricName"], dims, stat, state.period)
        except NotEvaluable as exc:
            state.reason = str(exc)
            return state
        periods = int(props.get("EvaluationPeriods", 1))
        needed = f"in AWS: {props.get('DatapointsToAlarm', periods)} of {periods} periods of {state.period} s"
        symbol, breaches = _COMPARE[comparison]
        if state.value is not None:
            state.state = "ALARM" if breaches(state.value, state.threshold) else "OK"
            state.reason = (
                f"latest {state.period} s: {state.value:g} {symbol if state.state == 'ALARM' else 'not ' + symbol} "
                f"{state.threshold:g} ({needed})"
            )
            return state
        missing = str(props.get("TreatMissingData", "missing"))
        window = periods * state.period
        if self.running_for < window:
            state.state = "INSUFFICIENT_DATA"
            state.reason = f"no data yet; the stack has run {self.running_for:.0f} s of the alarm's {window} s window"
        else:
            state.state = {"breaching": "ALARM", "notBreaching": "OK"}.get(missing, "INSUFFICIENT_DATA")
            state.reason = f"no data in the latest {state.period} s (TreatMissingData: {missing})"
        return state

    def _math(self, queries: list[Mapping[str, Any]]) -> tuple[float | None, int, list[str]]:
        by_id = {str(q["Id"]): q for q in queries}
        returned = [q for q in queries if q.get("ReturnData", True) and "Expression" in q]
        if len(returned) != 1:
            raise NotEvaluable("a metric math alarm returns exactly one expression")
        values: dict[str, float | None] = {}
        described = []
        period = 0
        for query in queries:
            if "MetricStat" in query:
                stat = query["MetricStat"]
                metric = stat["Metric"]
                dims = {d["Name"]: str(d["Value"]) for d in metric.get("Dimensions", [])}
                period = int(stat["Period"])
                described.append(_describe(metric["Namespace"], metric["MetricName"], dims, str(stat["Stat"])))
                values[str(query["Id"])] = self.metric_value(
                    metric["Namespace"], metric["MetricName"], dims, str(stat["Stat"]), period
                )
        expression = str(returned[0]["Expression"])
        period = int(returned[0].get("Period") or period or 60)

        def named(name: str) -> float | None:
            if name in values:
                return values[name]
            query = by_id.get(name)
            if query is None or "Expression" not in query:
                raise NotEvaluable(f"the expression names {name}, which is not one of its metrics")
            values[name] = _Expression(str(query["Expression"]), named).value()
            return values[name]

        return _Expression(expression, named).value(), period, [*described, expression]


class _Expression:
    """A CloudWatch metric math expression over single values (the latest period): arithmetic,
    comparisons, IF, FILL, SUM, MAX, MIN and AVG of lists. A missing value propagates."""

    def __init__(self, text: str, named: Callable[[str], float | None]) -> None:
        try:
            self.tree = ast.parse(text.replace("\n", " "), mode="eval").body
        except SyntaxError as exc:
            raise NotEvaluable(f"the expression {text!r} is not evaluated locally") from exc
        self.text = text
        self.named = named

    def value(self) -> float | None:
        result = self._eval(self.tree)
        if isinstance(result, list):
            raise NotEvaluable(f"the expression {self.text!r} returns several series")
        return None if result is None else float(result)

    def _eval(self, node: ast.expr) -> Any:  # noqa: PLR0911 -- one branch per kind of node
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.named(node.id)
        if isinstance(node, ast.List):
            return [self._eval(item) for item in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = self._eval(node.operand)
            return None if operand is None else -operand
        if isinstance(node, ast.BinOp):
            return self._arithmetic(node)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = self._eval(node.left), self._eval(node.comparators[0])
            if left is None or right is None:
                return None
            return float(_COMPARISONS[type(node.ops[0])](left, right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._function(node.func.id, node.args)
        raise NotEvaluable(f"the expression {self.text!r} is not evaluated locally")

    def _arithmetic(self, node: ast.BinOp) -> float | None:
        left, right = self._eval(node.left), self._eval(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return float(left + right)
        if isinstance(node.op, ast.Sub):
            return float(left - right)
        if isinstance(node.op, ast.Mult):
            return float(left * right)
        if isinstance(node.op, ast.Div):
            return None if right == 0 else float(left / right)  # CloudWatch drops the point
        raise NotEvaluable(f"the expression {self.text!r} is not evaluated locally")

    def _function(self, name: str, args: list[ast.expr]) -> float | None:
        values: list[Any] = [self._eval(arg) for arg in args]
        if name == "IF" and len(values) == 3:
            condition, when_true, when_false = values
            chosen = None if condition is None else (when_true if condition else when_false)
            return None if chosen is None else float(chosen)
        if name == "FILL" and len(values) == 2:
            filled = values[1] if values[0] is None else values[0]
            return None if filled is None else float(filled)
        if name in _LISTS and len(values) == 1 and isinstance(values[0], list):
            present = [float(v) for v in values[0] if v is not None]
            return _LISTS[name](present) if present else None
        raise NotEvaluable(f"{name}() in {self.text!r} is not evaluated locally")


_LISTS: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum,
    "MAX": max,
    "MIN": min,
    "AVG": lambda v: sum(v) / len(v),
}
_COMPARISONS: dict[type[ast.cmpop], Callable[[float, float], bool]] = {
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}
