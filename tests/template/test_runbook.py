"""docs/runbook.md against what it describes: every alarm links to its section, the metric
inventory and the access log format are the code's and the template's, the manual release is the
release function's own write, and the CloudWatch Logs Insights queries use only fields the code
logs or the access log defines.

No Logs Insights parser exists offline (the language is CloudWatch's own, with no published
grammar or library): each query gets a lexical check here instead (known commands between pipes,
balanced brackets and quotes, known functions), and every field it names must be one the
functions log (Powertools' keys, read from a real Logger; the `extra` keys of the code's logger
calls, read from its source; the metric names of its EMF lines), one of the access log's, or one
of Logs Insights' own `@` fields. A `message` it filters on must be a message the code logs."""

from __future__ import annotations

import ast
import io
import json
import re
from functools import cache
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths

from account_billing.billing.holds.records import DUE_INDEX, HoldOutcome, HoldStatus, due_partitions
from functions.preauth_release.app import ScheduledEvent
from local.template import ROOT, load_template, resources
from tests.support.emf import CODE, code_metrics
from tests.support.operability import dead_letter_queues
from tests.support.sam import transformed_template

RUNBOOK = ROOT / "docs" / "runbook.md"
COMMANDS = {"fields", "filter", "stats", "sort", "limit", "parse", "display", "dedup", "pattern", "diff", "unmask"}
KEYWORDS = {"and", "or", "not", "in", "like", "as", "by", "asc", "desc"}
FUNCTIONS = {
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "pct",
    "stddev",
    "earliest",
    "latest",
    "bin",
    "ispresent",
    "isempty",
    "isblank",
    "coalesce",
    "strlen",
    "tolower",
    "toupper",
    "concat",
    "abs",
    "floor",
    "ceil",
}
# Fields Logs Insights discovers itself (and those of Lambda's START/END/REPORT lines).
BUILTIN_FIELDS = {
    "@timestamp",
    "@message",
    "@log",
    "@logStream",
    "@ingestionTime",
    "@requestId",
    "@type",
    "@duration",
    "@billedDuration",
    "@memorySize",
    "@maxMemoryUsed",
    "@initDuration",
}
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<number>\d+(?:\.\d+)?[smhd]?\b)
    |(?P<name>@?[A-Za-z_][\w.]*)
    |(?P<op>==|!=|<=|>=|=~|[=<>+\-*/%|,()\[\]])
    )""",
    re.VERBOSE,
)


def runbook() -> str:
    return RUNBOOK.read_text()


def queries() -> list[str]:
    return re.findall(r"```logs-insights\n(.*?)```", runbook(), re.DOTALL)


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")


def anchors() -> set[str]:
    return {_slug(h) for h in re.findall(r"^#{2,4} (.+)$", runbook(), re.MULTILINE)}


# ---------------------------------------------------------------------------- the Logs Insights check
def tokens(query: str) -> list[tuple[str, str]]:
    """(kind, text) of each token; a regular expression after `like` is one token."""
    found: list[tuple[str, str]] = []
    text = "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("#"))
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        if found and found[-1] == ("name", "like") and text[position:].lstrip().startswith("/"):
            start = text.index("/", position)
            match = re.compile(r"/(?:[^/\\\n]|\\.)*/").match(text, start)
            if match is None:
                raise ValueError(f"an unterminated regular expression at {text[start : start + 20]!r}")
            found.append(("regex", match[0]))
            position = match.end()
            continue
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"unexpected text {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match[kind]))
        position = match.end()
    return found


def check_query(query: str) -> tuple[list[str], set[str], set[str]]:
    """(problems, the fields it uses, the messages it filters on)."""
    try:
        found = tokens(query)
    except ValueError as exc:
        return [str(exc)], set(), set()
    problems = _bracket_problems(found)
    aliases = {found[i + 1][1] for i, t in enumerate(found[:-1]) if t == ("name", "as")}
    fields: set[str] = set()
    for segment in _segments(found):
        if not segment or segment[0][0] != "name" or segment[0][1] not in COMMANDS:
            problems.append(f"a command must start each part, not {segment[0][1] if segment else 'nothing'}")
            continue
        for index, (kind, text) in enumerate(segment[1:], 1):
            if kind != "name" or text.lower() in KEYWORDS or text in aliases:
                continue
            called = index + 1 < len(segment) and segment[index + 1][1] == "("
            if called and text not in FUNCTIONS:
                problems.append(f"unknown function {text}()")
            elif not called:
                fields.add(text)
    return problems, fields, _messages(found)


def _bracket_problems(found: list[tuple[str, str]]) -> list[str]:
    depth = 0
    for _, text in found:
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(text, 0)
        if depth < 0:
            return ["a bracket closes that was not open"]
    return ["unbalanced brackets"] if depth else []


def _segments(found: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    segments: list[list[tuple[str, str]]] = [[]]
    for token in found:
        if token == ("op", "|"):
            segments.append([])
        else:
            segments[-1].append(token)
    return segments


def _messages(found: list[tuple[str, str]]) -> set[str]:
    """The literals a query compares `message` with (`=`, or `in [...]`)."""
    messages: set[str] = set()
    for index, (kind, text) in enumerate(found[:-2]):
        if (kind, text) != ("name", "message"):
            continue
        operator, value = found[index + 1][1], found[index + 2]
        if operator == "=" and value[0] == "string":
            messages.add(json.loads(value[1]))
        if operator == "in":
            end = next(i for i in range(index + 2, len(found)) if found[i][1] == "]")
            messages |= {json.loads(t) for k, t in found[index + 2 : end] if k == "string"}
    return messages


def test_the_query_check_catches_a_broken_query() -> None:
    assert check_query("filter status like /^5/ | stats count(*) as errors by routeKey")[0] == []
    assert check_query("filter status like /^5/ | stats count(*) as n by routeKey | sort n desc")[1] == {
        "status",
        "routeKey",
    }
    assert check_query("filter (status = 500")[0] == ["unbalanced brackets"]
    assert check_query("status = 500")[0] == ["a command must start each part, not status"]
    assert check_query("stats percentile(responseLatency, 99)")[0] == ["unknown function percentile()"]
    assert check_query('filter message like /"unterminated')[0]
    assert check_query('filter message in ["a", "b"] or message = "c"')[2] == {"a", "b", "c"}


# ---------------------------------------------------------------------------- what the code logs
@cache
def powertools_fields() -> frozenset[str]:
    """The keys a Powertools Logger writes in a function (API context, an exception included).
    Once per process: Powertools configures a logger's handler only the first time."""
    stream = io.StringIO()
    logger = Logger(service="runbook-check", stream=stream)

    class Context:
        function_name, memory_limit_in_mb = "f", 128
        invoked_function_arn, aws_request_id = "arn:aws:lambda:eu-west-1:123456789012:function:f", "r"

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    def handler(event: dict[str, Any], context: Any) -> None:
        try:
            raise RuntimeError("x")
        except RuntimeError:
            logger.exception("failed")

    handler({"requestContext": {"requestId": "id"}}, Context())
    return frozenset(key for line in stream.getvalue().splitlines() for key in json.loads(line))


def logged_by_the_code() -> tuple[set[str], set[str]]:
    """The `extra` keys and the messages of every logger call of the code, from its source."""
    keys: set[str] = set()
    messages: set[str] = set()
    for base in CODE:
        for path in base.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                func = getattr(node, "func", None)
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.value.id == "logger"
                ):
                    continue
                if node.args and isinstance(node.args[0], ast.Constant):
                    messages.add(str(node.args[0].value))
                for keyword in node.keywords:
                    if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict):
                        keys |= {str(k.value) for k in keyword.value.keys if isinstance(k, ast.Constant)}
    return keys, messages


def access_log_fields() -> set[str]:
    log_format = load_template()["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    return set(json.loads(re.sub(r'"?\$context\.[A-Za-z0-9_.]+"?', '"x"', log_format)))


@pytest.mark.parametrize("query", queries(), ids=lambda q: q.splitlines()[0][:60])
def test_each_logs_insights_query_is_well_formed_and_uses_only_fields_that_exist(query: str) -> None:
    extra, messages = logged_by_the_code()
    known = BUILTIN_FIELDS | access_log_fields() | powertools_fields() | extra | set(code_metrics().names)

    problems, fields, filtered = check_query(query)

    assert problems == []
    assert fields - known == set()
    assert filtered - messages == set(), "a query filters on a message no code logs"


def test_the_runbook_has_queries_over_both_logs() -> None:
    used = set().union(*(check_query(q)[1] for q in queries()))

    assert len(queries()) >= 15
    assert {"requestId", "routeKey", "status", "correlation_id", "hold_id"} <= used


# ---------------------------------------------------------------------------- alarms and inventory
def test_every_alarm_links_to_its_section_and_is_named_there() -> None:
    template = load_template()
    text = runbook()
    documented = [
        re.compile("^" + re.sub(r"<(group|function)>", "[a-z0-9-]+", re.escape(name)) + "$")
        for name in re.findall(r"\*\*`<stack>-([^`]+)`\*\*", text)
    ]
    problems = []
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        props = alarm["Properties"]
        link = re.search(r"docs/runbook\.md#([a-z0-9-]+)", props["AlarmDescription"])
        if link is None or link[1] not in anchors():
            problems.append(f"{name}: its description links to no section of the runbook")
        suffix = props["AlarmName"]["Fn::Sub"].removeprefix("${AWS::StackName}-")
        if not any(pattern.match(suffix) for pattern in documented):
            problems.append(f"{name}: <stack>-{suffix} is not named in the runbook")

    assert problems == []


def test_the_metric_inventory_is_what_the_code_counts() -> None:
    section = runbook().split("## Metric inventory", 1)[1].split("\n## ", 1)[0]
    inventory = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))

    assert inventory == set(code_metrics().names)


def test_the_access_log_table_is_the_templates_format() -> None:
    log_format = load_template()["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    rows = re.findall(r"^\| `(\w+)` \| `([\w.]+)` \|", runbook(), re.MULTILINE)

    assert dict(rows) == dict(re.findall(r'"(\w+)":"?\$context\.([\w.]+)', log_format))


# ---------------------------------------------------------------------------- the procedures
def test_the_sample_events_the_procedures_invoke_with_are_the_release_functions() -> None:
    events = ROOT / "events" / "preauth_release"
    release = ScheduledEvent.model_validate(json.loads((events / "release_hold.json").read_text()))
    sweep = ScheduledEvent.model_validate(json.loads((events / "hourly_sweep.json").read_text()))

    assert release.release is not None
    assert sweep.sweep
    assert "events/preauth_release/release_hold.json" in runbook()
    assert "events/preauth_release/hourly_sweep.json" in runbook()


def test_marking_a_hold_released_by_hand_writes_what_the_release_function_writes() -> None:
    text = runbook()
    store = (ROOT / "layers/common/account_billing/billing/holds/store.py").read_text()
    [update] = re.findall(r'--update-expression "([^"]+)"', text)
    finish = re.search(r'f"SET \{assignments\} (REMOVE [^"]+)"', store)

    assert finish is not None
    assert update.endswith(finish[1])  # leaves the due index as a release does
    assert {"#status = :released", "outcome = :outcome", "released_at = :now"} <= {
        part.strip() for part in update.removeprefix("SET ").split(" REMOVE ")[0].split(",")
    }
    assert '{\\":released\\":{\\"S\\":\\"' + HoldStatus.RELEASED.value in text
    documented = re.search(r"`OUTCOME` is (.+?) \(nothing", text, re.DOTALL)
    assert documented is not None
    assert set(re.findall(r"`(\w+)`", documented[1])) == {o.value for o in HoldOutcome}
    assert f"--index-name {DUE_INDEX}" in text
    loop = re.search(r"for DUE in HOLD \$\(seq -f 'HOLD#%g' 0 (\d+)\)", text)
    assert loop is not None  # every partition of the due index, the legacy one first
    assert ["HOLD"] + [f"HOLD#{n}" for n in range(int(loop[1]) + 1)] == due_partitions()[-1:] + due_partitions()[:-1]
    assert '\\"S\\":\\"$DUE\\"' in text


def test_the_resources_the_procedures_name_are_the_stacks() -> None:
    names = set(re.findall(r"\bresource (\w+)", runbook()))

    assert names <= set(transformed_template()["Resources"])
    assert {"AccountTable", "PreauthReleaseFunction", "HoldReleaseDeadLetterQueue"} <= names


def test_every_dead_letter_queue_is_in_the_replay_procedure() -> None:
    replay = runbook().split("### Replay a dead-letter queue", 1)[1]

    assert {q for q in dead_letter_queues(transformed_template()) if q not in replay} == set()
