"""The local stack's operability pages, beside its others (`local.pages`):

- `GET /_local/metrics[?namespace=...&name=...]`: every metric the stack observed (the
  functions' EMF, and what it measured as Lambda and API Gateway), per metric and dimensions:
  samples, sum, minimum, maximum, last value and when.
- `GET /_local/alarms[?state=ALARM]`: every CloudWatch alarm of the template, evaluated over
  them (`local.alarms`): OK, ALARM, INSUFFICIENT_DATA or NOT_EVALUATED, and why.
- `GET /_local/logs[?request_id=...&log=...&limit=...]`: the functions' JSON log lines and the
  API's access log lines (newest last); `request_id` follows one request through both (the
  access log's `requestId` is the functions' `correlation_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from local.alarms import AlarmState, Evaluator
from local.apigw import HttpRequest, HttpResponse
from local.intrinsics import Resolver, UnresolvedReference
from local.pages import json_page
from local.telemetry import Telemetry
from local.template import resources

DEFAULT_LOG_LIMIT = 200


def metric_listing(telemetry: Telemetry, namespace: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    series: dict[tuple[str, str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    for point in telemetry.points():
        if (namespace and point.namespace != namespace) or (name and point.name != name):
            continue
        entry = series.setdefault(
            (point.namespace, point.name, point.dimensions),
            {
                "namespace": point.namespace,
                "metric": point.name,
                "dimensions": dict(point.dimensions),
                "unit": point.unit,
                "samples": 0,
                "sum": 0.0,
                "minimum": point.value,
                "maximum": point.value,
                "emitted_by": set(),
            },
        )
        entry["samples"] += 1
        entry["sum"] += point.value
        entry["minimum"] = min(entry["minimum"], point.value)
        entry["maximum"] = max(entry["maximum"], point.value)
        entry["last"] = point.value
        entry["last_at"] = point.timestamp
        entry["emitted_by"].add(point.source)
    listing = sorted(series.values(), key=lambda e: (e["namespace"], e["metric"], sorted(e["dimensions"].items())))
    for entry in listing:
        entry["emitted_by"] = sorted(entry["emitted_by"])
    return listing


def evaluate_alarms(
    template: Mapping[str, Any], resolver: Resolver, telemetry: Telemetry, now: float | None = None
) -> list[AlarmState]:
    now = telemetry.clock() if now is None else now
    evaluator = Evaluator(telemetry.points(), telemetry.gauge, now, now - telemetry.started_at)
    states = []
    for logical_id, resource in resources(dict(template), "AWS::CloudWatch::Alarm").items():
        try:
            props = resolver(resource.get("Properties") or {})
        except UnresolvedReference as exc:
            states.append(AlarmState(logical_id, logical_id, "NOT_EVALUATED", f"not emulated locally: {exc}"))
            continue
        states.append(evaluator.evaluate(logical_id, props))
    return states


def log_records(
    telemetry: Telemetry, request_id: str | None = None, log: str | None = None, limit: int = DEFAULT_LOG_LIMIT
) -> list[dict[str, Any]]:
    records = telemetry.records()
    if log:
        records = [r for r in records if r.get("@log") == log]
    if request_id:
        keys = ("requestId", "correlation_id", "@requestId", "function_request_id")
        records = [r for r in records if any(r.get(key) == request_id for key in keys)]
    return records[-limit:] if limit > 0 else []


def operability_pages(
    template: Mapping[str, Any], resolver: Resolver, telemetry: Telemetry
) -> Callable[[HttpRequest], HttpResponse | None]:
    """The handler of the pages above (None for any other request)."""

    def pages(request: HttpRequest) -> HttpResponse | None:
        if request.method != "GET":
            return None
        path, query = request.raw_path, {k: v[-1] for k, v in parse_qs(request.raw_query).items()}
        if path == "/_local/metrics":
            return json_page({"metrics": metric_listing(telemetry, query.get("namespace"), query.get("name"))})
        if path == "/_local/alarms":
            states = [s.to_dict() for s in evaluate_alarms(template, resolver, telemetry)]
            if "state" in query:
                states = [s for s in states if s["state"] == query["state"]]
            return json_page({"alarms": states, "evaluation": _EVALUATION})
        if path == "/_local/logs":
            try:
                limit = int(query.get("limit", DEFAULT_LOG_LIMIT))
            except ValueError:
                return json_page({"message": "limit must be a number"}, 400)
            return json_page({"records": log_records(telemetry, query.get("request_id"), query.get("log"), limit)})
        return None

    return pages


_EVALUATION = (
    "Each alarm over its latest period only (AWS also needs DatapointsToAlarm of EvaluationPeriods). "
    "Observed locally: the functions' EMF metrics; AWS/Lambda Invocations, Errors, Duration; AWS/ApiGateway "
    "Count, 4xx, 5xx, Latency, IntegrationLatency; AWS/SQS queue depths. Not locally: SES's metrics, Lambda "
    "throttles (none happen), resources the stack does not emulate."
)
