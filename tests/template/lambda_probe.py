"""One cold invocation of a built artifact, laid out as Lambda lays it out (tests/template/test_build.py).

Run as `python -I -S -B lambda_probe.py` with a JSON request on stdin:

    {"task": "<function artifact>", "layer": "<layer content>", "handler": "app.lambda_handler",
     "event": {...}, "absent": ["moto", ...]}

`sys.path` is then the function's artifact (Lambda's /var/task), the layer's content (/opt/python)
and the standard library, nothing else: `-I` ignores PYTHON* variables and the user site, `-S`
adds no site-packages, `-B` writes no bytecode (Lambda's /var/task and /opt are read-only).

Every module whose source Python compiles is recorded: a module without usable bytecode goes
through `SourceLoader.source_to_code` (the only place import compiles a source file), which is
wrapped before anything else is imported. The report (JSON, on the last line of stdout) says
which artifact modules were compiled and which were loaded from their bytecode, which were loaded from
anywhere but the artifact, the layer and the standard library, which of the `absent` names
could be imported after all, and what the handler answered.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import time
import traceback
from importlib import _bootstrap_external
from pathlib import Path
from typing import Any

compiled: list[str] = []
_source_to_code = _bootstrap_external.SourceLoader.source_to_code


def _recording_source_to_code(self: Any, data: bytes, path: str, *, _optimize: int = -1) -> Any:
    compiled.append(str(path))
    return _source_to_code(self, data, path, _optimize=_optimize)


_bootstrap_external.SourceLoader.source_to_code = _recording_source_to_code  # type: ignore[method-assign,assignment]


class Context:
    """The parts of Lambda's context object that Powertools reads."""

    function_name = "artifact-check"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:artifact-check"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-00000000a1f0"
    log_group_name = "/aws/lambda/artifact-check"
    log_stream_name = "artifact-check"

    def __init__(self) -> None:
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _within(path: str | None, roots: list[Path]) -> bool:
    return path is not None and any(Path(path).is_relative_to(root) for root in roots)


def main() -> None:
    request = json.loads(sys.stdin.read())
    artifact = [Path(request["task"]), Path(request["layer"])]
    standard_library = [Path(entry) for entry in sys.path if entry]
    sys.path[:0] = [str(path) for path in artifact]

    report: dict[str, Any] = {}
    module_name, attribute = request["handler"].rsplit(".", 1)
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
        report["response"] = json.loads(json.dumps(handler(request["event"], Context()), default=str))
    except Exception:  # the report says what failed; the test decides
        report["error"] = traceback.format_exc()

    loaded = {name: getattr(module.__spec__, "origin", None) for name, module in list(sys.modules.items())}
    from_artifact = {name: origin for name, origin in loaded.items() if _within(origin, artifact)}
    sources = {name: origin for name, origin in from_artifact.items() if str(origin).endswith(".py")}
    report["compiled"] = [path for path in compiled if _within(path, artifact)]
    report["from_bytecode"] = sorted(name for name, origin in sources.items() if origin not in compiled)
    report["without_bytecode"] = sorted(
        name for name in sources if not Path(str(sys.modules[name].__cached__)).is_file()
    )
    report["elsewhere"] = sorted(
        f"{name}: {origin}"
        for name, origin in loaded.items()
        if origin not in (None, "built-in", "frozen") and not _within(origin, artifact + standard_library)
    )
    report["importable"] = {
        name: spec.origin or "namespace package"
        for name in request["absent"]
        if (spec := importlib.util.find_spec(name)) is not None
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
