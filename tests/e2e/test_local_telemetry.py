"""The local stack's CloudWatch stand-in, without a stack: EMF lines become data points as
CloudWatch extracts them, the template's alarms are evaluated over them as CloudWatch would
(statistics, metric math, missing data), and access log lines follow the stage's format."""

from __future__ import annotations

import io
import json
import logging
import sys
from typing import Any

import pytest

from local.alarms import Evaluator
from local.telemetry import DataPoint, _Tee, access_log_line, captured_output, dimensions_of, emf_points

NOW = 1_800_000_000.0
SERVICE = {"service": "account-billing"}


def _point(name: str, value: float, age: float = 10, namespace: str = "AccountBilling", **dims: str) -> DataPoint:
    return DataPoint(namespace, name, dimensions_of(dims or SERVICE), value, "Count", NOW - age, "test")


def _alarm(**props: Any) -> dict[str, Any]:
    return {
        "AlarmName": "test-alarm",
        "Namespace": "AccountBilling",
        "MetricName": "HoldReleaseFailed",
        "Dimensions": [{"Name": "service", "Value": "account-billing"}],
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 3,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        **props,
    }


def _evaluate(points: list[DataPoint], running_for: float = 86_400, **props: Any) -> Any:
    return Evaluator(points, lambda *_: None, NOW, running_for).evaluate("TestAlarm", _alarm(**props))


def test_an_emf_object_gives_one_point_per_value_and_dimension_set() -> None:
    blob = {
        "_aws": {
            "Timestamp": NOW * 1000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "AccountBilling",
                    "Dimensions": [["service"], []],
                    "Metrics": [{"Name": "HoldReleased", "Unit": "Count"}],
                }
            ],
        },
        "service": "account-billing",
        "HoldReleased": [1.0, 2.0],
    }

    points = emf_points(blob, "PreauthReleaseFunction")

    assert [(p.dimensions, p.value) for p in points] == [
        ((("service", "account-billing"),), 1.0),
        ((("service", "account-billing"),), 2.0),
        ((), 1.0),
        ((), 2.0),
    ]
    assert {p.timestamp for p in points} == {NOW}


def test_an_alarm_fires_when_its_statistic_over_the_latest_period_crosses_the_threshold() -> None:
    failing = [_point("HoldReleaseFailed", 1, age=a) for a in (10, 20, 30)]

    assert _evaluate(failing).state == "ALARM"
    assert _evaluate(failing[:2]).state == "OK"
    assert _evaluate([_point("HoldReleaseFailed", 1, age=400)] * 5).state == "OK"  # older than the period
    assert _evaluate([_point("HoldReleaseFailed", 5, age=10, service="other")]).state == "OK"  # another metric


def test_missing_data_is_treated_as_the_alarm_says_once_the_stack_ran_its_window() -> None:
    assert _evaluate([]).state == "OK"
    assert _evaluate([], TreatMissingData="breaching").state == "ALARM"
    assert _evaluate([], TreatMissingData="missing").state == "INSUFFICIENT_DATA"
    assert _evaluate([], running_for=60, TreatMissingData="breaching").state == "INSUFFICIENT_DATA"


def test_percentile_statistics_are_evaluated_by_nearest_rank() -> None:
    durations = [_point("Duration", float(ms), namespace="AWS/Lambda", FunctionName="f") for ms in range(1, 101)]
    props: dict[str, Any] = {
        "Namespace": "AWS/Lambda",
        "MetricName": "Duration",
        "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
        "Statistic": None,
        "ExtendedStatistic": "p99",
        "Threshold": 98,
        "ComparisonOperator": "GreaterThanThreshold",
    }

    state = _evaluate(durations, **props)

    assert (state.state, state.value) == ("ALARM", 99.0)


def _route_alarm() -> dict[str, Any]:
    def stat(query_id: str, namespace: str, name: str, **dims: str) -> dict[str, Any]:
        dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
        metric = {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions}
        return {"Id": query_id, "ReturnData": False, "MetricStat": {"Period": 300, "Stat": "Sum", "Metric": metric}}

    return {
        "Metrics": [
            stat("e1", "AWS/ApiGateway", "5xx", ApiId="api", Stage="$default", Route="GET /a"),
            stat("e2", "AWS/ApiGateway", "5xx", ApiId="api", Stage="$default", Route="GET /b"),
            stat("invocations", "AWS/Lambda", "Invocations", FunctionName="f"),
            stat("throttles", "AWS/Lambda", "Throttles", FunctionName="f"),
            {
                "Id": "rate",
                "ReturnData": True,
                "Expression": "IF(FILL(invocations, 0) + FILL(throttles, 0) >= 10,\n"
                "100 * SUM([FILL(e1, 0), FILL(e2, 0)]) / (FILL(invocations, 0) + FILL(throttles, 0)), 0)",
            },
        ],
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanThreshold",
    }


def _requests(total: int, errors: int) -> list[DataPoint]:
    api: dict[str, Any] = {"ApiId": "api", "Stage": "$default", "Route": "GET /a"}
    points = [_point("Invocations", 1, namespace="AWS/Lambda", FunctionName="f") for _ in range(total)]
    points += [_point("5xx", 1 if i < errors else 0, namespace="AWS/ApiGateway", **api) for i in range(total)]
    return points


def test_a_route_groups_5xx_rate_is_computed_by_its_metric_math() -> None:
    alarm = _route_alarm()

    assert _evaluate(_requests(20, 2), **alarm).value == pytest.approx(10.0)
    assert _evaluate(_requests(20, 2), **alarm).state == "ALARM"
    assert _evaluate(_requests(200, 1), **alarm).state == "OK"  # 0.5%
    assert _evaluate(_requests(5, 5), **alarm).value == 0  # too few requests to count


def test_what_the_stack_cannot_observe_is_said_not_guessed() -> None:
    ses = _evaluate([], Namespace="AWS/SES", MetricName="Reputation.BounceRate", Dimensions=[])
    math = _evaluate([], Metrics=[{"Id": "x", "ReturnData": True, "Expression": "ANOMALY_DETECTION_BAND(m1)"}])
    throttles = _evaluate([], Namespace="AWS/Lambda", MetricName="Throttles")

    assert (ses.state, ses.reason) == (
        "NOT_EVALUATED",
        "AWS/SES Reputation.BounceRate is not observed by the local stack",
    )
    assert math.state == "NOT_EVALUATED"
    assert throttles.state == "OK"  # no throttle ever happens locally: no data, not breaching


def test_an_access_log_line_follows_the_stages_format() -> None:
    line = access_log_line(
        '{"requestId":"$context.requestId","status":"$context.status","sub":"$context.authorizer.claims.sub"}',
        {"requestId": "abc", "status": "200"},
    )

    assert json.loads(line) == {"requestId": "abc", "status": "200", "sub": "-"}


def test_a_functions_output_is_captured_and_still_written(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("telemetry-test-service")
    handler = logging.StreamHandler(sys.stdout)
    logger.addHandler(handler)
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("POWERTOOLS_SERVICE_NAME", "telemetry-test-service")
            with captured_output() as lines:
                print('{"_aws": {}}')
                logger.warning('{"message": "logged"}')
    finally:
        logger.removeHandler(handler)

    assert lines == ['{"_aws": {}}', '{"message": "logged"}']
    assert capsys.readouterr().out.splitlines() == lines


def test_output_captured_after_its_stream_was_closed_still_reaches_the_process_stdout(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Given a capture whose stream was swapped in by someone else and closed meanwhile
    closed = io.StringIO()
    copy: list[str] = []
    tee = _Tee(closed, copy)
    closed.close()

    # When a function still writes through it (an EMF line on another thread)
    tee.write('{"_aws": {}}\n')
    tee.flush()

    # Then nothing raises: the line is kept and goes to the process's stdout
    assert copy == ['{"_aws": {}}\n']
    assert '{"_aws": {}}' in capfd.readouterr().out
