"""template.yaml's operability: every function, dead-letter queue and route group has its
alarms, every alarm notifies someone, the dashboard shows them all, every log group expires, the
API's access log keeps no token, and the business alarms read the metrics the code emits.

Checked on the transformed template too, so what SAM generates (the usage rule's dead-letter
queue) and what another change adds (a queue, a function, a route) needs its alarms as well."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from local.template import ROOT, http_routes, resources
from tests.support.emf import SERVICE, code_metrics
from tests.support.operability import dead_letter_queues, target

# The route groups: the routes of one function each. A function that takes HTTP routes and is
# not here fails `test_every_route_group_has_a_5xx_rate_and_a_p99_latency_alarm`.
ROUTE_GROUPS = {
    "ProfileFunction": "account",
    "EmailsFunction": "emails",
    "AvatarFunction": "avatar",
    "PaymentMethodsFunction": "cards",
    "SubscriptionsFunction": "subscription",
    "InvoicesFunction": "invoices",
    "SpendingFunction": "spending",
    "StripeWebhookFunction": "webhooks",
    "ExportsFunction": "exports",
}
# The access log's variables: ids, route, status, latencies, errors, size, and the caller's
# sub. Never a header, a token, the path (it holds emails and User IDs) or an address.
ACCESS_LOG_VARIABLES = {
    "requestId",
    "requestTimeEpoch",
    "routeKey",
    "status",
    "responseLatency",
    "integrationLatency",
    "integrationStatus",
    "integrationErrorMessage",
    "error.messageString",
    "responseLength",
    "authorizer.claims.sub",
}
STAGE = "$default"
MAX_ALARM_METRICS = 10  # CloudWatch: a metric math alarm reads at most 10 metrics


# ---------------------------------------------------------------------------- reading alarms
def _metric_stats(props: dict[str, Any]) -> list[dict[str, Any]]:
    """Each metric an alarm reads: namespace, name, dimensions (name → raw value), statistic."""
    if "Metrics" not in props:
        return [
            {
                "namespace": props["Namespace"],
                "name": props["MetricName"],
                "dims": {d["Name"]: d["Value"] for d in props.get("Dimensions", [])},
                "stat": props.get("ExtendedStatistic") or props.get("Statistic"),
            }
        ]
    return [
        {
            "namespace": q["MetricStat"]["Metric"]["Namespace"],
            "name": q["MetricStat"]["Metric"]["MetricName"],
            "dims": {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"].get("Dimensions", [])},
            "stat": q["MetricStat"]["Stat"],
        }
        for q in props["Metrics"]
        if "MetricStat" in q
    ]


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: res["Properties"] for name, res in resources(template, "AWS::CloudWatch::Alarm").items()}


def _alarms_on(template: dict[str, Any], namespace: str, name: str, **dims: str) -> list[dict[str, Any]]:
    """The alarms that read the metric, its dimensions naming these logical ids (or values)."""
    found = []
    for props in _alarms(template).values():
        for stat in _metric_stats(props):
            if (stat["namespace"], stat["name"]) != (namespace, name):
                continue
            if all(target(stat["dims"].get(k)) == v or stat["dims"].get(k) == v for k, v in dims.items()):
                found.append(props)
                break
    return found


# ---------------------------------------------------------------------------- alarms
def test_every_alarm_notifies_the_alarm_topic(transformed: dict[str, Any]) -> None:
    alarms = _alarms(transformed)

    silent = [name for name, props in alarms.items() if {"Ref": "AlarmTopic"} not in props.get("AlarmActions", [])]

    assert len(alarms) >= 60
    assert silent == []
    assert transformed["Resources"]["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


def test_every_function_has_errors_throttles_and_duration_near_timeout_alarms(template: dict[str, Any]) -> None:
    default_timeout = template["Globals"]["Function"]["Timeout"]
    missing = []
    for function, resource in resources(template, "AWS::Serverless::Function").items():
        timeout_ms = resource["Properties"].get("Timeout", default_timeout) * 1000
        for metric in ("Errors", "Throttles"):
            if not _alarms_on(template, "AWS/Lambda", metric, FunctionName=function):
                missing.append(f"{function} {metric}")
        duration = [
            a
            for a in _alarms_on(template, "AWS/Lambda", "Duration", FunctionName=function)
            if a.get("ExtendedStatistic") == "p99"
            and a["ComparisonOperator"] == "GreaterThanThreshold"
            and a["Threshold"] == 0.8 * timeout_ms
        ]
        if not duration:
            missing.append(f"{function} Duration p99 > 80% of its {timeout_ms} ms timeout")

    assert missing == []


def test_every_dead_letter_queue_has_an_alarm_when_it_is_not_empty(transformed: dict[str, Any]) -> None:
    queues = dead_letter_queues(transformed)
    unwatched = []
    for queue in sorted(queues):
        watching = [
            a
            for a in _alarms_on(transformed, "AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=queue)
            if a["Threshold"] == 0 and a["ComparisonOperator"] == "GreaterThanThreshold" and a["Period"] <= 300
        ]
        if not watching:
            unwatched.append(queue)

    # the scheduler's, the avatar validator's (OnFailure), the usage and task queues' (RedrivePolicy)
    assert {
        "HoldReleaseDeadLetterQueue",
        "AvatarValidatorDeadLetterQueue",
        "UsageDeadLetterQueue",
        "StripeTaskDeadLetterQueue",
    } <= queues
    assert unwatched == []


# Event sources that invoke a function asynchronously (Lambda retries, then discards, unless
# the function names an on-failure destination); SQS and HTTP are synchronous to their caller.
ASYNCHRONOUS_SOURCES = {"S3", "SNS", "EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2"}


def test_every_asynchronously_invoked_function_ends_its_failures_in_an_alarmed_queue(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    asynchronous = {
        name
        for name, function in resources(template, "AWS::Serverless::Function").items()
        if any(event["Type"] in ASYNCHRONOUS_SOURCES for event in (function["Properties"].get("Events") or {}).values())
    }
    destinations = {
        target(config["Properties"]["FunctionName"]): target(
            config["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        )
        for config in resources(transformed, "AWS::Lambda::EventInvokeConfig").values()
    }

    assert {"AvatarValidatorFunction", "SecurityNoticesFunction", "PreauthReleaseFunction"} <= asynchronous
    silent = sorted(f for f in asynchronous if destinations.get(f) not in dead_letter_queues(transformed))
    # (and every dead-letter queue has its alarm: the test above)
    assert silent == []


def test_the_dead_letter_queues_are_found_wherever_they_are_wired() -> None:
    template = {
        "Resources": {
            "Work": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Parked", "Arn"]}}},
            },
            "Parked": {"Type": "AWS::SQS::Queue"},
            "Failures": {"Type": "AWS::SQS::Queue"},
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": "Failures.Arn"}}}},
            },
            "ReleaseDLQ": {"Type": "AWS::SQS::Queue"},
        }
    }

    assert dead_letter_queues(template) == {"Parked", "Failures", "ReleaseDLQ"}


def _routes_by_function(template: dict[str, Any]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for route in http_routes(template):
        grouped.setdefault(route.function, set()).add(route.route_key)
    return grouped


def _route_metrics(props: dict[str, Any], name: str, stat: str) -> set[str]:
    return {
        s["dims"]["Route"]
        for s in _metric_stats(props)
        if (s["namespace"], s["name"], s["stat"]) == ("AWS/ApiGateway", name, stat)
        and target(s["dims"].get("ApiId")) == "HttpApi"
        and s["dims"].get("Stage") == STAGE
    }


def test_every_route_group_has_a_5xx_rate_and_a_p99_latency_alarm(template: dict[str, Any]) -> None:
    grouped = _routes_by_function(template)
    alarms = _alarms(template).values()
    problems = [
        f"{fn} takes HTTP routes but is no route group (ROUTE_GROUPS)" for fn in grouped if fn not in ROUTE_GROUPS
    ]
    for function, routes in grouped.items():
        group = ROUTE_GROUPS.get(function, function)
        errors = [a for a in alarms if _route_metrics(a, "5xx", "Sum") == routes]
        if not any(
            _alarms_reads(a, "AWS/Lambda", "Invocations", function)
            and a["ComparisonOperator"] == "GreaterThanThreshold"
            for a in errors
        ):
            problems.append(f"{group}: no alarm on the 5xx rate of exactly its routes {sorted(routes)}")
        if not [a for a in alarms if _route_metrics(a, "Latency", "p99") == routes]:
            problems.append(f"{group}: no alarm on the p99 latency of exactly its routes {sorted(routes)}")
    too_many = [
        props.get("AlarmName")
        for props in alarms
        if "Metrics" in props and len(_metric_stats(props)) > MAX_ALARM_METRICS
    ]

    assert problems == []
    assert too_many == []
    assert template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]["DetailedMetricsEnabled"] is True


def _alarms_reads(props: dict[str, Any], namespace: str, name: str, function: str) -> bool:
    return any(
        (s["namespace"], s["name"]) == (namespace, name) and target(s["dims"].get("FunctionName")) == function
        for s in _metric_stats(props)
    )


def test_business_alarms_read_the_namespace_and_service_the_functions_emit_with(template: dict[str, Any]) -> None:
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    namespace = environment["POWERTOOLS_METRICS_NAMESPACE"]
    emitted = code_metrics().names
    problems = []
    for name, props in _alarms(template).items():
        for stat in _metric_stats(props):
            if isinstance(stat["namespace"], str) and stat["namespace"].startswith("AWS/"):
                continue
            if stat["namespace"] != namespace:
                problems.append(f"{name}: namespace {stat['namespace']} is not the functions' {namespace}")
            if stat["dims"] != {"service": environment["POWERTOOLS_SERVICE_NAME"]}:
                problems.append(f"{name}: dimensions {stat['dims']} are not Powertools' service dimension")
            if stat["name"] not in emitted:
                problems.append(f"{name}: {stat['name']} is no metric the code emits")

    assert problems == []
    assert environment["POWERTOOLS_SERVICE_NAME"] == SERVICE
    # one namespace per stack: two stages in one account never feed each other's alarms
    assert "${AWS::StackName}" in namespace["Fn::Sub"]


def test_thresholds_are_parameters_with_production_defaults(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    problems = []
    for name, props in _alarms(template).items():
        reads = {(str(s["namespace"]), s["name"]) for s in _metric_stats(props)}
        structural = reads & {("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/Lambda", "Duration")}
        threshold = props["Threshold"]
        if structural:
            continue  # "not empty" and "80% of the timeout" are what these alarms mean
        if target(threshold) not in parameters or "Default" not in parameters[target(threshold)]:
            problems.append(f"{name}: threshold {threshold} is not a parameter with a default")
        for query in props.get("Metrics", []):
            expression = query.get("Expression", "")
            text = expression["Fn::Sub"] if isinstance(expression, dict) else expression
            for used in re.findall(r"\$\{(\w+)\}", text):
                if "Default" not in parameters.get(used, {}):
                    problems.append(f"{name}: its expression uses {used}, not a parameter with a default")

    assert problems == []


def test_holds_overdue_alarms_well_inside_the_seven_days_a_card_network_allows(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    [alarm] = [a for a in _alarms(template).values() if a.get("MetricName") == "OldestDueHoldAgeSeconds"]
    latest_release = parameters["HoldReleaseDelayMinutes"]["MaxValue"] * 60
    alarm_after = parameters["HoldOverdueSeconds"]["MaxValue"] + alarm["EvaluationPeriods"] * alarm["Period"]

    assert latest_release + alarm_after < 7 * 86_400
    assert parameters["HoldOverdueSeconds"]["Default"] <= 6 * 3600  # "past a few hours"
    assert alarm["TreatMissingData"] == "breaching"  # a sweeper that stopped reporting alarms too


# ---------------------------------------------------------------------------- the dashboard
def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's body, each `${X}` of its Fn::Sub left as the text `${X}`."""
    [dashboard] = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    numbers = {"${HoldOverdueSeconds}": "0"}
    for name, value in numbers.items():
        body = body.replace(name, value)
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def _dashboard_metrics(dashboard: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    found = []
    for widget in dashboard["widgets"]:
        for entry in widget["properties"].get("metrics", []):
            parts = [p for p in entry if not isinstance(p, dict)]
            if len(parts) >= 2:
                dims = dict(zip(parts[2::2], parts[3::2], strict=True))
                found.append((parts[0], parts[1], dims))
    return found


def test_the_dashboard_shows_every_alarm_function_queue_route_and_business_metric(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    dashboard = _dashboard(template)
    shown = _dashboard_metrics(dashboard)
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]["Fn::Sub"]
    missing = []
    for function in resources(template, "AWS::Serverless::Function"):
        for metric in ("Errors", "Throttles", "Duration"):
            if ("AWS/Lambda", metric, {"FunctionName": f"${{{function}}}"}) not in shown:
                missing.append(f"{function} {metric}")
    for queue in dead_letter_queues(transformed):
        if ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": f"${{{queue}.QueueName}}"}) not in shown:
            missing.append(f"dead-letter queue {queue}")
    for route in http_routes(template):
        for metric in ("Count", "5xx", "Latency"):
            dims = {"ApiId": "${HttpApi}", "Stage": STAGE, "Route": route.route_key}
            if ("AWS/ApiGateway", metric, dims) not in shown:
                missing.append(f"{route.route_key} {metric}")
    for metric in code_metrics().names:
        if (namespace, metric, {"service": SERVICE}) not in shown:
            missing.append(f"business metric {metric}")
    alarm_widget = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    listed = {a for w in alarm_widget for a in w["properties"]["alarms"]}
    missing += [f"alarm {a}" for a in _alarms(template) if f"${{{a}.Arn}}" not in listed]

    assert missing == []
    assert all(w["x"] + w["width"] <= 24 for w in dashboard["widgets"])


# ---------------------------------------------------------------------------- logs
def test_every_log_group_expires_and_the_api_logs_to_one(transformed: dict[str, Any], template: dict[str, Any]) -> None:
    groups = resources(transformed, "AWS::Logs::LogGroup")

    assert [name for name, g in groups.items() if "RetentionInDays" not in g["Properties"]] == []
    settings = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]
    assert target(settings["DestinationArn"]) in groups
    [stage] = resources(transformed, "AWS::ApiGatewayV2::Stage").values()
    assert target(stage["Properties"]["AccessLogSettings"]["DestinationArn"]) == "HttpApiAccessLogGroup"


def test_the_access_log_is_json_keyed_by_request_id_and_keeps_no_token(template: dict[str, Any]) -> None:
    log_format = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    variables = set(re.findall(r"\$context\.([A-Za-z0-9_.]+)", log_format))

    sample = re.sub(
        r"\$context\.([A-Za-z0-9_.]+)", lambda m: '"quoted"' if m[1].endswith("String") else "value", log_format
    )
    record = json.loads(sample)

    assert variables <= ACCESS_LOG_VARIABLES
    assert {
        "requestId",
        "routeKey",
        "status",
        "responseLatency",
        "integrationLatency",
        "integrationErrorMessage",
        "sub",
    } <= set(record)
    assert not re.search(r"header|token|identity|path|authorization", log_format, re.IGNORECASE)


def test_the_functions_log_the_api_request_id_as_their_correlation_id(template: dict[str, Any]) -> None:
    """`$context.requestId` is the payload 2.0 event's requestContext.requestId, which
    Powertools' API_GATEWAY_HTTP correlation path reads: one id across access and function logs."""
    api_functions = {route.function for route in http_routes(template)}
    sources = {
        function: (ROOT / template["Resources"][function]["Properties"]["CodeUri"] / "app.py").read_text()
        for function in api_functions
    }

    assert correlation_paths.API_GATEWAY_HTTP == "requestContext.requestId"
    assert [f for f, s in sources.items() if "correlation_id_path=correlation_paths.API_GATEWAY_HTTP" not in s] == []


# ---------------------------------------------------------------------------- browsers and emails
def test_cors_exposes_the_headers_a_browser_client_reads(template: dict[str, Any]) -> None:
    api = template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    [uploads] = template["Resources"]["AvatarBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    code = "\n".join(p.read_text() for p in Path(ROOT, "layers", "common").rglob("*.py")) + "\n".join(
        p.read_text() for p in Path(ROOT, "functions").rglob("app.py")
    )

    assert {"etag", "retry-after", "location"} <= {h.lower() for h in api["ExposeHeaders"]}
    assert {"etag", "location"} <= {h.lower() for h in uploads["ExposedHeaders"]}
    for header in ('"ETag"', '"Retry-After"', '"Location"'):  # the API does send them
        assert header in code


def test_emails_go_through_a_configuration_set_whose_events_the_email_alarms_read(template: dict[str, Any]) -> None:
    resources_ = template["Resources"]
    environment = resources_["EmailsFunction"]["Properties"]["Environment"]["Variables"]
    [destination] = resources(template, "AWS::SES::ConfigurationSetEventDestination").values()
    event_destination = destination["Properties"]["EventDestination"]
    [dimension] = event_destination["CloudWatchDestination"]["DimensionConfigurations"]

    assert target(environment["EMAIL_CONFIGURATION_SET"]) == "EmailConfigurationSet"
    assert {"send", "bounce", "complaint"} <= set(event_destination["MatchingEventTypes"])
    for metric in ("Bounce", "Complaint"):
        assert _alarms_on(template, "AWS/SES", metric, **{dimension["DimensionName"]: "EmailConfigurationSet"})
    for metric in ("Reputation.BounceRate", "Reputation.ComplaintRate"):
        assert _alarms_on(template, "AWS/SES", metric)
