"""What CloudWatch would receive from the local stack: the metrics and logs of its functions and
of its API, kept in memory for the `/_local/metrics`, `/_local/alarms` and `/_local/logs` pages.

- Functions: on Lambda, whatever a function writes to stdout goes to its log group, and
  CloudWatch turns the Embedded Metric Format lines among them (Powertools Metrics prints one
  per invocation) into metrics. Locally each invocation's output is captured the same way (a tee
  of stdout and of the Powertools logger's stream, so the developer still sees it), its EMF
  lines become data points and its JSON log lines log records.
- What AWS measures itself, the local stack measures as it plays the service: per invocation,
  `AWS/Lambda` Invocations, Errors and Duration (by FunctionName); per API request,
  `AWS/ApiGateway` Count, 4xx, 5xx, Latency and IntegrationLatency (by ApiId; ApiId and Stage;
  ApiId, Stage and Route, as detailed metrics give them), and an access log line rendered from
  the template's `AccessLogSettings.Format`.
- Gauges read at evaluation time: `AWS/SQS` ApproximateNumberOfMessagesVisible of a queue in
  moto (`gauge`).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.apigw import HttpRequest, HttpResponse
    from local.functions import LambdaContext, LocalFunction

# A metric's identity in CloudWatch: namespace, name and its exact set of dimensions.
type Dimensions = tuple[tuple[str, str], ...]
# A value read when an alarm is evaluated (a queue's depth): None when the stack cannot tell.
type Gauge = Callable[[str, str, Mapping[str, str]], float | None]

STAGE = "$default"  # the HTTP API's only stage (SAM's default)
MAX_POINTS = 200_000
MAX_RECORDS = 20_000


@dataclass(frozen=True)
class DataPoint:
    namespace: str
    name: str
    dimensions: Dimensions
    value: float
    unit: str
    timestamp: float  # seconds since the epoch
    source: str  # the function that emitted it, or what the stack measured ("gateway", "lambda")


def dimensions_of(mapping: Mapping[str, Any]) -> Dimensions:
    return tuple(sorted((str(name), str(value)) for name, value in mapping.items()))


def emf_points(blob: Mapping[str, Any], source: str) -> list[DataPoint]:
    """The data points of one Embedded Metric Format object, as CloudWatch extracts them: each
    metric of each directive, once per dimension set, valued by the blob's member of its name."""
    meta = blob.get("_aws")
    if not isinstance(meta, dict):
        return []
    stamp = float(meta.get("Timestamp", time.time() * 1000)) / 1000
    points: list[DataPoint] = []
    for directive in meta.get("CloudWatchMetrics", []):
        namespace = str(directive.get("Namespace", ""))
        for definition in directive.get("Metrics", []):
            name = definition.get("Name")
            values = blob.get(name)
            samples = values if isinstance(values, list) else [values]
            for dimension_set in directive.get("Dimensions") or [[]]:
                dims = dimensions_of({key: blob.get(key, "") for key in dimension_set})
                points.extend(
                    DataPoint(namespace, name, dims, float(v), str(definition.get("Unit", "None")), stamp, source)
                    for v in samples
                    if isinstance(v, (int, float)) and not isinstance(v, bool)
                )
    return points


class _Tee(io.TextIOBase):
    """Writes to `target` and keeps a copy."""

    def __init__(self, target: IO[str], copy: list[str]) -> None:
        self.target = target
        self.copy = copy

    def write(self, text: str) -> int:
        self.copy.append(text)
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def _target(self) -> IO[str]:
        # Whoever swapped the stream may have closed it since (a test's output capture, while
        # another thread's invocation still writes): the process's own stdout then.
        if getattr(self.target, "closed", False):
            return sys.__stdout__ or self.target
        return self.target

    def writable(self) -> bool:
        return True


@contextmanager
def captured_output() -> Iterator[list[str]]:
    """The lines a function writes during the block (`print` and the Powertools logger of its
    service), still written where they were going. Invocations run one at a time."""
    copy: list[str] = []
    lines: list[str] = []
    saved = sys.stdout
    sys.stdout = _Tee(saved, copy)
    service = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME") or "service_undefined")
    streams = [(h, h.setStream(_Tee(h.stream, copy))) for h in service.handlers if isinstance(h, logging.StreamHandler)]
    try:
        yield lines
    finally:
        for handler, stream in streams:
            handler.setStream(stream)
        sys.stdout = saved
        lines.extend(line for line in "".join(copy).splitlines() if line.strip())


_CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


def access_log_line(template: str, context: Mapping[str, str]) -> str:
    """An access log line from the stage's format: each `$context.x` variable replaced by its
    value, `-` when it has none (as API Gateway writes them)."""
    return _CONTEXT_VARIABLE.sub(lambda m: context.get(m[1], "-"), template)


class Telemetry:
    """The stack's metrics and logs. Thread-safe: requests and event sources run in parallel."""

    def __init__(
        self,
        *,
        api_id: str,
        access_log_format: str | None = None,
        access_log_group: str = "",
        gauges: list[Gauge] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_id = api_id
        self.access_log_format = access_log_format
        self.access_log_group = access_log_group
        self.gauges = list(gauges or [])
        self.clock = clock
        self.started_at = clock()
        self._points: deque[DataPoint] = deque(maxlen=MAX_POINTS)
        self._records: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)
        self._integrations: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ reading
    def points(self) -> list[DataPoint]:
        with self._lock:
            return list(self._points)

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._records)

    def gauge(self, namespace: str, name: str, dimensions: Mapping[str, str]) -> float | None:
        for read in self.gauges:
            value = read(namespace, name, dimensions)
            if value is not None:
                return value
        return None

    def _add(self, points: list[DataPoint], records: list[dict[str, Any]]) -> None:
        with self._lock:
            self._points.extend(points)
            self._records.extend(records)

    # ------------------------------------------------------------------ functions
    @contextmanager
    def invocation(self, function: LocalFunction, context: LambdaContext) -> Iterator[None]:
        """Around one invocation: its output captured and parsed, its AWS/Lambda metrics."""
        started = time.monotonic()
        failed = True
        try:
            with captured_output() as lines:
                yield
            failed = False
        finally:
            elapsed_ms = (time.monotonic() - started) * 1000
            failed = failed or elapsed_ms > function.timeout * 1000
            self._invoked(function, context.aws_request_id, elapsed_ms, failed, lines)

    def _invoked(
        self, function: LocalFunction, request_id: str, elapsed_ms: float, failed: bool, lines: list[str]
    ) -> None:
        now = self.clock()
        points: list[DataPoint] = []
        records: list[dict[str, Any]] = []
        for line in lines:
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if not isinstance(parsed, dict):
                continue
            if "_aws" in parsed:
                points.extend(emf_points(parsed, function.logical_id))
            records.append({"@log": function.log_group, "@timestamp": now, "@requestId": request_id, **parsed})
        dims = dimensions_of({"FunctionName": function.name})
        for name, value, unit in (
            ("Invocations", 1.0, "Count"),
            ("Errors", 1.0 if failed else 0.0, "Count"),
            ("Duration", elapsed_ms, "Milliseconds"),
        ):
            points.append(DataPoint("AWS/Lambda", name, dims, value, unit, now, "lambda"))
        self._add(points, records)

    # ------------------------------------------------------------------ the API
    def integration(self, event: Mapping[str, Any], elapsed_ms: float, error: str | None) -> None:
        """The gateway invoked a route's function with `event` (what the access log reads)."""
        context = event.get("requestContext", {})
        with self._lock:
            self._integrations[str(context.get("requestId"))] = {
                "latency": elapsed_ms,
                "error": error,
                "claims": ((context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {},
            }

    def request(
        self,
        request: HttpRequest,
        response: HttpResponse,
        *,
        request_id: str,
        route_key: str | None,
        latency_ms: float,
        started: float,
    ) -> None:
        """A request the API answered (not the stack's own pages): its metrics and access log."""
        with self._lock:
            integration = self._integrations.pop(request_id, None)
        now = self.clock()
        status = response.status
        values = [
            ("Count", 1.0, "Count"),
            ("4xx", 1.0 if 400 <= status < 500 else 0.0, "Count"),
            ("5xx", 1.0 if status >= 500 else 0.0, "Count"),
            ("Latency", latency_ms, "Milliseconds"),
        ]
        if integration is not None:
            values.append(("IntegrationLatency", integration["latency"], "Milliseconds"))
        dimension_sets = [{"ApiId": self.api_id}, {"ApiId": self.api_id, "Stage": STAGE}]
        if route_key is not None:
            dimension_sets.append({"ApiId": self.api_id, "Stage": STAGE, "Route": route_key})
        points = [
            DataPoint("AWS/ApiGateway", name, dimensions_of(dims), value, unit, now, "gateway")
            for dims in dimension_sets
            for name, value, unit in values
        ]
        records = []
        if self.access_log_format:
            line = access_log_line(
                self.access_log_format,
                self._access_context(request, response, request_id, route_key, integration)
                | {"requestTimeEpoch": str(int(started * 1000)), "responseLatency": str(round(latency_ms))},
            )
            try:
                record: dict[str, Any] = json.loads(line)
            except ValueError:
                record = {"@message": line}
            records.append({"@log": self.access_log_group, "@timestamp": now, **record})
        self._add(points, records)

    @staticmethod
    def _access_context(
        request: HttpRequest,
        response: HttpResponse,
        request_id: str,
        route_key: str | None,
        integration: dict[str, Any] | None,
    ) -> dict[str, str]:
        context = {
            "requestId": request_id,
            "routeKey": route_key or "-",
            "httpMethod": request.method,
            "status": str(response.status),
            "responseLength": str(len(response.body)),
            "protocol": request.protocol,
            "error.messageString": '"-"',
        }
        if integration is not None:
            context["integrationLatency"] = str(round(integration["latency"]))
            context["integrationStatus"] = "200"
            if integration["error"]:
                context["integrationErrorMessage"] = integration["error"]
            for claim, value in integration["claims"].items():
                context[f"authorizer.claims.{claim}"] = str(value)
        else:
            # API Gateway answered by itself (no route, the authorizer, a payload limit).
            try:
                message = str(json.loads(response.body).get("message", "-"))
            except (ValueError, AttributeError):
                message = "-"
            context["error.message"] = message
            context["error.messageString"] = json.dumps(message)
        return context
