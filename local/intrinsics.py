"""CloudFormation intrinsic functions, resolved against the local stack's resources.

Covers what a SAM template's properties and environments use: `Ref` (parameters, pseudo
parameters, resources), `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`,
`Fn::If` with the template's `Conditions`, `Fn::FindInMap`, `Fn::Base64` and `AWS::NoValue`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

_NO_VALUE = object()
_SUB = re.compile(r"\$\{([^}]*)\}")


class UnresolvedReference(LookupError):
    """An intrinsic names something the local stack does not provide."""


def parameter_values(template: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Every template parameter's value: given, else its Default. Lists for list types."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        value = given.get(name, spec.get("Default"))
        if value is None:
            raise UnresolvedReference(f"template parameter {name} has no Default; pass --param {name}=VALUE")
        is_list = spec.get("Type", "String") == "CommaDelimitedList" or spec.get("Type", "").startswith("List<")
        if is_list and isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        elif not is_list and not isinstance(value, str):
            value = str(value)
        values[name] = value
    return values


class Resolver:
    """Resolves intrinsics in any value of the template.

    `refs`: logical id → what `Ref` returns; `attributes`: (logical id, attribute) → `Fn::GetAtt`.
    Both may grow while resources are created.
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        refs: Mapping[str, Any] | None = None,
        attributes: Mapping[tuple[str, str], Any] | None = None,
        placeholder: Callable[[str, str], Any] | None = None,
    ) -> None:
        self.template = template
        self.placeholder = placeholder
        self.parameters = parameters
        self.pseudo = pseudo
        self.refs: dict[str, Any] = dict(refs or {})
        self.attributes: dict[tuple[str, str], Any] = dict(attributes or {})
        self._conditions: dict[str, bool] = {}

    def __call__(self, value: Any) -> Any:
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    # ------------------------------------------------------------------ conditions
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definition = self.template.get("Conditions", {}).get(name)
            if definition is None:
                raise UnresolvedReference(f"no condition named {name}")
            self._conditions[name] = bool(self._evaluate(definition))
        return self._conditions[name]

    def _evaluate(self, node: Any) -> bool:
        if isinstance(node, dict) and len(node) == 1:
            ((fn, arg),) = node.items()
            if fn == "Fn::Equals":
                left, right = (self(item) for item in arg)
                return str(left) == str(right)
            if fn == "Fn::Not":
                return not self._evaluate(arg[0])
            if fn == "Fn::And":
                return all(self._evaluate(item) for item in arg)
            if fn == "Fn::Or":
                return any(self._evaluate(item) for item in arg)
            if fn == "Condition":
                return self.condition(arg)
        raise UnresolvedReference(f"unsupported condition {node!r}")

    def included(self, resource: Mapping[str, Any]) -> bool:
        """Whether a resource exists in this stack (its `Condition`, if any, holds)."""
        name = resource.get("Condition")
        return name is None or self.condition(name)

    # ------------------------------------------------------------------ intrinsics
    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        for table in (self.pseudo, self.parameters, self.refs):
            if name in table:
                return table[name]
        raise UnresolvedReference(f"Ref {name}: no such parameter or resource in the local stack")

    def get_att(self, logical: str, attribute: str) -> Any:
        if (logical, attribute) in self.attributes:
            return self.attributes[(logical, attribute)]
        if self.placeholder is not None and logical in self.template.get("Resources", {}):
            # An attribute of a resource the local stack does not emulate: a stand-in value.
            value = self.placeholder(logical, attribute)
            self.attributes[(logical, attribute)] = value
            return value
        raise UnresolvedReference(f"Fn::GetAtt {logical}.{attribute} is not provided by the local stack")

    def sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match[1]
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return _SUB.sub(replace, text)

    def _resolve(self, value: Any) -> Any:  # noqa: PLR0911, PLR0912 -- one branch per intrinsic
        if isinstance(value, list):
            items = [self._resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical, self._resolve(attribute))
            if fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self._resolve(arg[1]))
                return self.sub(text, variables)
            if fn == "Fn::Join":
                delimiter, items = arg
                return str(delimiter).join(str(item) for item in self._resolve(items))
            if fn == "Fn::Select":
                index, items = self._resolve(arg)
                return items[int(index)]
            if fn == "Fn::Split":
                delimiter, text = arg
                return str(self._resolve(text)).split(delimiter)
            if fn == "Fn::If":
                name, when_true, when_false = arg
                return self._resolve(when_true if self.condition(name) else when_false)
            if fn == "Fn::FindInMap":
                name, first, second = (self._resolve(item) for item in arg[:3])
                return self.template["Mappings"][name][first][second]
            if fn == "Fn::Base64":
                return base64.b64encode(str(self._resolve(arg)).encode()).decode()
            if fn == "Fn::GetAZs":
                region = self.pseudo["AWS::Region"]
                return [f"{region}{zone}" for zone in "abc"]
            if fn.startswith("Fn::"):
                raise UnresolvedReference(f"{fn} is not supported by the local stack")
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}


def environment_strings(variables: Mapping[str, Any]) -> dict[str, str]:
    """A function's resolved environment as Lambda sets it: strings, booleans as true/false."""
    env = {}
    for name, value in variables.items():
        if isinstance(value, bool):
            env[name] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            env[name] = str(value)
        else:
            raise UnresolvedReference(f"environment variable {name} resolves to a {type(value).__name__}")
    return env
