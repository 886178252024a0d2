"""IAM evaluated for the template's functions: every AWS call a function made in the tests,
checked against that function's policies in template.yaml as IAM would check it.

The policies come from the SAM transform of template.yaml (inline statements and SAM policy
templates become the execution role's policies), with intrinsics resolved to the names of the
environment the call ran in: the tests' moto (stack "test") or a local stack, each named as
`local.resources` names a stack's resources, and with what the function's own environment
says for a parameter or resource it references (as CloudFormation gives a function and its
policy the same value). Evaluation follows IAM's identity-policy logic: an explicit Deny wins,
else an Allow whose Action/NotAction and Resource/NotResource match (with `*` and `?`), else
denied. A condition this module cannot evaluate makes its statement not match, and says so.

    python -m tests.support.iam RECORDING.json    evaluate a recording (pytest --aws-calls=FILE)
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from local.config import ACCOUNT_ID, REGION
from local.identity import pseudo_parameters, stack_parameters
from local.intrinsics import Resolver, parameter_values
from local.resources import Provisioner
from local.template import ROOT, load_template, resources
from tests.support.iam_actions import Authorization
from tests.support.sam import PARAMETERS, transformed_template

TEST_STACK = "test"  # tests/conftest.py's STACK

# ------------------------------------------------------------------ policies


@dataclass(frozen=True)
class Grant:
    """One (action pattern, resource pattern) pair of an Allow statement: the unit of the
    least-privilege report."""

    policy: str
    statement: int
    action: str
    resource: str


@dataclass(frozen=True)
class Statement:
    policy: str
    index: int
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def statements(name: str, document: Mapping[str, Any]) -> list[Statement]:
    """The statements of one policy document."""
    found = []
    raw = document.get("Statement", [])
    for index, statement in enumerate(raw if isinstance(raw, list) else [raw]):
        found.append(
            Statement(
                policy=name,
                index=index,
                effect=statement["Effect"],
                actions=_strings(statement.get("Action")),
                not_actions=_strings(statement.get("NotAction")),
                resources=_strings(statement.get("Resource")),
                not_resources=_strings(statement.get("NotResource")),
                condition=statement.get("Condition", {}),
            )
        )
    return found


# ------------------------------------------------------------------ matching


@cache
def _glob(pattern: str, *, case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, 0 if case else re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    """Action names match case-insensitively, with `*` and `?` (IAM JSON policy reference)."""
    return _glob(pattern, case=False).fullmatch(action) is not None


def resource_matches(pattern: str, arn: str) -> bool:
    """An ARN pattern matches component by component (partition, service, region, account),
    wildcards never crossing a component; the resource part matches as a whole."""
    if pattern == "*":
        return True
    want, have = pattern.split(":", 5), arn.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return _glob(pattern, case=True).fullmatch(arn) is not None
    return all(_glob(w, case=True).fullmatch(h) is not None for w, h in zip(want, have, strict=True))


class Unevaluable(Exception):
    """A condition operator or key this evaluator does not know."""


_STRING_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda want, have: want == have,
    "StringNotEquals": lambda want, have: want != have,
    "StringEqualsIgnoreCase": lambda want, have: want.lower() == have.lower(),
    "StringNotEqualsIgnoreCase": lambda want, have: want.lower() != have.lower(),
    "StringLike": lambda want, have: _glob(want, case=True).fullmatch(have) is not None,
    "StringNotLike": lambda want, have: _glob(want, case=True).fullmatch(have) is None,
    "ArnEquals": lambda want, have: want == have,
    "ArnLike": resource_matches,
    "ArnNotEquals": lambda want, have: want != have,
    "ArnNotLike": lambda want, have: not resource_matches(want, have),
    "Bool": lambda want, have: want.lower() == have.lower(),
}
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool:
    """All of a statement's condition blocks hold (IAM: AND across operators and keys, OR across
    a key's values; a negated operator holds when none of its values match). Raises
    `Unevaluable` for an operator or a key the request's context does not carry."""
    for operator, keys in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        if base == "Null":
            for key, want in keys.items():
                if (str(want).lower() == "true") != (key not in context):
                    return False
            continue
        compare = _STRING_OPERATORS.get(base)
        if compare is None:
            raise Unevaluable(f"condition operator {operator}")
        for key, wanted in keys.items():
            values = _strings(wanted)
            if key not in context:
                if if_exists:
                    continue
                known = {"s3:prefix", "s3:delimiter", "s3:max-keys", "iam:PassedToService"}
                if key in known:  # a key the request could set but did not: no match
                    return False
                raise Unevaluable(f"condition key {key}")
            have = context[key]
            matched = [compare(want, have) for want in values]
            if not (all(matched) if base in _NEGATED else any(matched)):
                return False
    return True


@dataclass
class Decision:
    allowed: bool
    denied_by: list[Statement] = field(default_factory=list)  # explicit denies
    grants: list[Grant] = field(default_factory=list)  # what allowed it
    unevaluated: list[str] = field(default_factory=list)  # conditions left unevaluated


def decide(policy: Iterable[Statement], request: Authorization) -> Decision:
    """IAM's decision for one authorization under identity policies only."""
    context = dict(request.context)
    decision = Decision(allowed=False)
    for statement in policy:
        actions = (
            [a for a in statement.actions if action_matches(a, request.action)]
            if statement.actions
            else ([] if any(action_matches(a, request.action) for a in statement.not_actions) else ["NotAction"])
        )
        resources_ = (
            [r for r in statement.resources if resource_matches(r, request.resource)]
            if statement.resources
            else ([] if any(resource_matches(r, request.resource) for r in statement.not_resources) else ["*"])
        )
        if not actions or not resources_:
            continue
        try:
            holds = condition_holds(statement.condition, context)
        except Unevaluable as exc:
            decision.unevaluated.append(f"{statement.policy}[{statement.index}]: {exc}")
            continue
        if not holds:
            continue
        if statement.effect == "Deny":
            decision.denied_by.append(statement)
        else:
            decision.grants.extend(Grant(statement.policy, statement.index, a, r) for a in actions for r in resources_)
    decision.allowed = bool(decision.grants) and not decision.denied_by
    return decision


# ------------------------------------------------------------------ the template's policies


@dataclass(frozen=True)
class Environment:
    """Where calls ran: the stack whose names they used, and the values the calling function's
    environment gave for what the template references (`Ref:X` or `GetAtt:X.Attr` → value)."""

    stack: str = TEST_STACK
    bindings: tuple[tuple[str, str], ...] = ()

    def key(self) -> str:
        return json.dumps([self.stack, list(map(list, self.bindings))])

    @classmethod
    def from_key(cls, key: str) -> Environment:
        stack, bindings = json.loads(key)
        return cls(stack, tuple(tuple(b) for b in bindings))


def _no_client(_service: str) -> Any:
    raise AssertionError("planning names creates nothing")


# Resource types whose `Ref` is their name, from which their other attributes follow.
_REF_IS_NAME = {
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::Events::EventBus",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::SSM::Parameter",
    "AWS::IAM::Role",
}


class _Planner(Provisioner):
    """Names resources as a local stack names them, except the ones the calling function's
    environment names (its `TABLE_NAME: !Ref AccountTable`...): their ARNs follow that name."""

    def __init__(self, template: Mapping[str, Any], names: Resolver, stack: str, bound: Mapping[str, str]) -> None:
        super().__init__(
            template, stack=stack, resolver=names, client=_no_client, region=REGION, account=ACCOUNT_ID, moto_url=""
        )
        kinds = {logical: resource["Type"] for logical, resource in template["Resources"].items()}
        self.bound = {logical: name for logical, name in bound.items() if kinds.get(logical) in _REF_IS_NAME}
        # A queue's Ref is its URL, whose last segment is its name.
        self.queue_urls = {logical: url for logical, url in bound.items() if kinds.get(logical) == "AWS::SQS::Queue"}

    def _name(self, logical: str, props: Mapping[str, Any], name_property: str | None) -> str:
        return self.bound.get(logical) or super()._name(logical, props, name_property)

    def _plan_table(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        if logical not in self.bound:
            return super()._plan_table(logical, props)
        arn = self._arn("dynamodb", f"table/{self.bound[logical]}")
        return self.bound[logical], {"Arn": arn, "StreamArn": f"{arn}/stream/local"}

    def _plan_queue(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        if logical not in self.queue_urls:
            return super()._plan_queue(logical, props)
        url = self.queue_urls[logical]
        name = url.rstrip("/").rsplit("/", 1)[-1]
        return url, {"QueueUrl": url, "Arn": self._arn("sqs", name), "QueueName": name}

    def _plan_bucket(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        return super()._plan_bucket(
            logical, {**props, "BucketName": self.bound[logical]} if logical in self.bound else props
        )


def _inverted(text: str, value: str) -> dict[str, str]:
    """The variables of `Fn::Sub` text that produce `value` (`${AWS::StackName}-avatars-...`
    against `bench-avatars-...`), or nothing if it cannot have produced it."""
    parts = re.split(r"\$\{([^}!]+)\}", text)
    pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<v{i // 2}>.+?)" for i, part in enumerate(parts))
    match = re.fullmatch(pattern, value)
    return {parts[2 * i + 1]: match[f"v{i}"] for i in range(len(parts) // 2)} if match else {}


def resolver(environment: Environment) -> Resolver:
    """Resolves the template's intrinsics to the names the environment's calls used."""
    template = load_template()
    pseudo: dict[str, Any] = {}
    named: dict[str, str] = {}  # Ref or GetAtt target → value
    for binding, value in environment.bindings:
        kind, _, target = binding.partition(":")
        if kind == "Sub":
            for variable, part in _inverted(target, value).items():
                (pseudo if variable.startswith("AWS::") else named).setdefault(variable, part)
        else:
            named[target] = value
    stack = pseudo.get("AWS::StackName", environment.stack)
    if environment.stack == TEST_STACK:  # the tests' values, as tests/support/sam.py transforms with
        parameters = parameter_values(template, PARAMETERS)
    else:  # a local stack's
        parameters = stack_parameters(template)
    refs: dict[str, Any] = {}
    attributes: dict[tuple[str, str], Any] = {}
    for target, value in named.items():
        if "." in target:
            logical, _, attribute = target.partition(".")
            attributes[(logical, attribute)] = value
        elif target in parameters:
            parameters[target] = value
        else:
            refs[target] = value
    names = Resolver(
        template,
        parameters=parameters,
        pseudo={**pseudo_parameters(stack, REGION, ACCOUNT_ID), **pseudo},
        refs=refs,
        attributes=attributes,
    )
    planner = _Planner(template, names, stack, refs)
    planner.plan(api_id="", api_endpoint="")  # fills what the bindings did not give
    return names


@cache
def _planned(stack: str) -> Resolver:
    return resolver(Environment(stack))


def name_in(stack: str, logical: str) -> str:
    """The physical name of a template resource in a stack named `stack`, as a local stack
    names it (a bucket's BucketName resolved, else `<stack>-<logical id>`)."""
    return str(_planned(stack).refs[logical])


def name_in_tests(logical: str) -> str:
    """The physical name of a template resource in the tests' stack ("test")."""
    return name_in(TEST_STACK, logical)


@dataclass(frozen=True)
class FunctionPolicy:
    function: str
    statements: tuple[Statement, ...]
    managed: tuple[str, ...]  # managed policy ARNs (their documents are not in the template)


def function_policies(
    environment: Environment, transformed: Mapping[str, Any] | None = None
) -> dict[str, FunctionPolicy]:
    """Each function's execution-role policies, resolved for `environment`."""
    template = transformed if transformed is not None else transformed_template()
    resolve = resolver(environment)
    found = {}
    for logical, function in resources(dict(template), "AWS::Lambda::Function").items():
        role_ref = function["Properties"]["Role"]
        role = template["Resources"][role_ref["Fn::GetAtt"][0]]["Properties"]
        policy: list[Statement] = []
        for entry in role.get("Policies", []):
            policy.extend(statements(entry["PolicyName"], resolve(entry["PolicyDocument"])))
        managed = tuple(str(resolve(arn)) for arn in role.get("ManagedPolicyArns", []))
        found[logical] = FunctionPolicy(logical, tuple(policy), managed)
    return found


def function_files() -> dict[str, str]:
    """Handler file → logical id of each function of template.yaml."""
    found = {}
    template = load_template()
    for logical, function in resources(template, "AWS::Serverless::Function").items():
        props = function["Properties"]
        module = props["Handler"].rsplit(".", 1)[0]
        path = (ROOT / props["CodeUri"]).joinpath(*module.split(".")).with_suffix(".py")
        found[str(path.resolve())] = logical
    return found


def referenced_variables() -> dict[str, dict[str, str]]:
    """Each function's environment variables that are a `Ref`, `Fn::GetAtt` or `Fn::Sub` in the
    template (Globals included): function → {variable: "Ref:X" | "GetAtt:X.Attr" | "Sub:text"}."""
    template = load_template()
    globals_ = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    found = {}
    for logical, function in resources(template, "AWS::Serverless::Function").items():
        variables = {**globals_, **function["Properties"].get("Environment", {}).get("Variables", {})}
        bound = {}
        for name, value in variables.items():
            if isinstance(value, dict) and "Ref" in value:
                bound[name] = f"Ref:{value['Ref']}"
            elif isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
                bound[name] = f"Sub:{value['Fn::Sub']}"
            elif isinstance(value, dict) and "Fn::GetAtt" in value:
                target = value["Fn::GetAtt"]
                bound[name] = "GetAtt:" + (".".join(target) if isinstance(target, list) else target)
        found[logical] = bound
    return found


# ------------------------------------------------------------------ recordings


@dataclass(frozen=True, order=True)
class Call:
    environment: str  # Environment.key()
    function: str
    operation: str  # service.Operation, as the code called it
    authorization: Authorization


@dataclass
class Recording:
    """The authorizations each function's calls needed, counted; and calls that could not be
    turned into authorizations."""

    calls: Counter[Call] = field(default_factory=Counter)
    unauthorizable: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # function, operation, why

    def merge(self, other: Recording) -> None:
        self.calls.update(other.calls)
        self.unauthorizable.update(other.unauthorizable)

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": [
                {
                    "environment": c.environment,
                    "function": c.function,
                    "operation": c.operation,
                    **c.authorization.to_json(),
                    "count": n,
                }
                for c, n in sorted(self.calls.items())
            ],
            "unauthorizable": [
                {"function": f, "operation": o, "reason": r, "count": n}
                for (f, o, r), n in sorted(self.unauthorizable.items())
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recording:
        recording = cls()
        for entry in data.get("calls", []):
            call = Call(entry["environment"], entry["function"], entry["operation"], Authorization.from_json(entry))
            recording.calls[call] += entry["count"]
        for entry in data.get("unauthorizable", []):
            recording.unauthorizable[(entry["function"], entry["operation"], entry["reason"])] += entry["count"]
        return recording


# ------------------------------------------------------------------ the report


@dataclass(frozen=True, order=True)
class Finding:
    function: str
    action: str
    resource: str
    operations: tuple[str, ...]
    calls: int
    why: str = ""

    def line(self) -> str:
        text = f"{self.function}  {self.action}  {self.resource}  ({', '.join(self.operations)}; {self.calls} calls)"
        return text + (f"  [{self.why}]" if self.why else "")


@dataclass
class Report:
    functions: dict[str, int]  # function → calls evaluated
    distinct: int  # distinct (function, action, resource, context)
    missing: list[Finding]
    unauthorizable: list[Finding]
    unused: list[tuple[str, Grant]]
    uncalled: list[str]  # functions of the template with no call recorded
    managed: dict[str, tuple[str, ...]]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unauthorizable

    def lines(self) -> list[str]:
        out = [
            f"IAM check: {len(self.functions)} functions, {sum(self.functions.values())} calls evaluated "
            f"({self.distinct} distinct authorizations), {len(self.missing)} missing permissions"
        ]
        for function, calls in sorted(self.functions.items()):
            out.append(f"  {function}: {calls} calls")
        if self.uncalled:
            out.append(f"  no call recorded for: {', '.join(self.uncalled)}")
        if self.missing:
            out.append("MISSING PERMISSIONS (function, action, resource) - AWS would refuse these calls:")
            out.extend(f"  {finding.line()}" for finding in self.missing)
        if self.unauthorizable:
            out.append("CALLS THAT COULD NOT BE EVALUATED:")
            out.extend(
                f"  {finding.function}  {finding.operations[0]}  {finding.why}" for finding in self.unauthorizable
            )
        if self.unused:
            out.append("granted but never exercised (least privilege; informational):")
            out.extend(f"  {function}  {grant.action}  {grant.resource}" for function, grant in self.unused)
        for function, arns in sorted(self.managed.items()):
            if arns:
                out.append(f"  not evaluated (managed policy, not in the template): {function} {', '.join(arns)}")
        return out


def check(recording: Recording, transformed: Mapping[str, Any] | None = None) -> Report:
    """Evaluate every recorded authorization against its function's policy."""
    policies: dict[str, dict[str, FunctionPolicy]] = {}
    calls: Counter[str] = Counter()
    missing: dict[tuple[str, str, str], tuple[set[str], int, set[str]]] = {}
    used: set[tuple[str, Grant]] = set()
    for call, count in recording.calls.items():
        if call.environment not in policies:
            policies[call.environment] = function_policies(Environment.from_key(call.environment), transformed)
        policy = policies[call.environment].get(call.function)
        calls[call.function] += count
        decision = decide(policy.statements if policy else (), call.authorization)
        used.update((call.function, grant) for grant in decision.grants)
        if not decision.allowed:
            key = (call.function, call.authorization.action, call.authorization.resource)
            operations, total, why = missing.get(key, (set(), 0, set()))
            why.update(decision.unevaluated)
            why.update(f"explicit Deny in {s.policy}[{s.index}]" for s in decision.denied_by)
            missing[key] = (operations | {call.operation}, total + count, why)
    tests_policies = function_policies(Environment(), transformed)
    unused = [
        (function, grant)
        for function, policy in sorted(tests_policies.items())
        if function in calls
        for statement in policy.statements
        if statement.effect == "Allow"
        for action in statement.actions
        for index, resource in enumerate(statement.resources)
        for grant in [Grant(statement.policy, statement.index, action, resource)]
        if not _used(used, function=function, statement=statement, action=action, index=index, policies=policies)
    ]
    return Report(
        functions=dict(calls),
        distinct=len({(c.function, c.authorization) for c in recording.calls}),
        missing=sorted(
            Finding(f, a, r, tuple(sorted(ops)), n, "; ".join(sorted(why)))
            for (f, a, r), (ops, n, why) in missing.items()
        ),
        unauthorizable=sorted(Finding(f, "", "", (o,), n, why) for (f, o, why), n in recording.unauthorizable.items()),
        unused=unused,
        uncalled=sorted(set(tests_policies) - set(calls)),
        managed={f: p.managed for f, p in tests_policies.items()},
    )


def _used(
    used: set[tuple[str, Grant]],
    *,
    function: str,
    statement: Statement,
    action: str,
    index: int,
    policies: Mapping[str, Mapping[str, FunctionPolicy]],
) -> bool:
    """Whether the grant (statement, action, resource #index) allowed a call in any environment."""
    for by_function in policies.values():
        policy = by_function.get(function)
        if policy is None:
            continue
        for candidate in policy.statements:
            if (candidate.policy, candidate.index) == (statement.policy, statement.index) and index < len(
                candidate.resources
            ):
                grant = Grant(candidate.policy, candidate.index, action, candidate.resources[index])
                if (function, grant) in used:
                    return True
    return False


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.support.iam RECORDING.json", file=sys.stderr)
        return 2
    report = check(Recording.from_json(json.loads(Path(argv[0]).read_text())))
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
