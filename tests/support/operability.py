"""Reading template.yaml's operability resources: what a `Ref`/`Fn::GetAtt` names, and which
queues are dead-letter queues."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from local.template import resources

# Where a queue becomes a dead-letter queue: anything under these keys that names a queue.
DEAD_LETTER_KEYS = {"DeadLetterConfig", "OnFailure", "RedrivePolicy", "deadLetterTargetArn", "DeadLetterTargetArn"}


def target(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` names."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        arg = value["Fn::GetAtt"]
        return str(arg[0] if isinstance(arg, list) else arg.split(".", 1)[0])
    return None


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def dead_letter_queues(template: dict[str, Any]) -> set[str]:
    """Every queue that is a dead-letter queue: named so, or the target of a DeadLetterConfig,
    an OnFailure destination or a RedrivePolicy anywhere in the template."""
    queues = set(resources(template, "AWS::SQS::Queue"))
    found = {q for q in queues if re.search(r"DeadLetter|Dlq|DLQ", q)}
    for resource in template["Resources"].values():
        for node in walk(resource.get("Properties", {})):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in DEAD_LETTER_KEYS:
                        found |= {t for t in map(target, walk(value)) if t in queues}
    return found
