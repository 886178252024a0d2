"""Lambda's layout on this machine: every artifact built by the script `sam build` runs
(build/lambda_artifact.py), for this machine's platform from this environment's installed
packages (offline, each pinned version checked), hash-based bytecode included, every file dated
1980-01-01 as in SAM's zips; and one cold invocation of an artifact in a fresh interpreter whose
`sys.path` holds that artifact, the layer and the standard library only (bench/lambda_child.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.template import ROOT, functions, load_template, resources

BUILD_SCRIPT = ROOT / "build" / "lambda_artifact.py"
CHILD = Path(__file__).with_name("lambda_child.py")
YARDSTICKS = Path(__file__).with_name("yardsticks")
SAM_ZIP_TIME = 315532800  # 1980-01-01T00:00:00Z, the time SAM's zips give every file


@dataclass(frozen=True)
class Layout:
    layer: Path  # the layer's content: Lambda's /opt/python
    tasks: dict[str, Path]  # source folder (relative to the project) → its artifact: /var/task

    def path(self, source: str) -> list[str]:
        """`sys.path` of a function built from `source` (before the standard library)."""
        return [str(self.tasks[source]), str(self.layer)]


def sources() -> tuple[str, list[str]]:
    """The layer's folder and every function's (the template's, then the yardsticks')."""
    template = load_template()
    (layer,) = resources(template, "AWS::Serverless::LayerVersion").values()
    code = [spec.code_uri.rstrip("/") for spec in functions(template).values()]
    yardsticks = [str(path.relative_to(ROOT)) for path in sorted(YARDSTICKS.iterdir()) if path.is_dir()]
    return str(layer["Properties"]["ContentUri"]).rstrip("/"), code + yardsticks


def build(root: Path, cache: Path | None = None) -> Layout:
    """Build the layer and every function into `root` (`cache`: compiled dependencies kept
    between builds, by requirements)."""
    site_packages = sysconfig.get_paths()["purelib"]
    cache = cache or root / "dependencies"
    layer_source, function_sources = sources()

    def artifact(kind: str, source: str) -> Path:
        target = root / source.replace("/", "-")
        command = [sys.executable, str(BUILD_SCRIPT), kind, str(ROOT / source), str(target)]
        subprocess.run([*command, "--site-packages", site_packages, "--deps-cache", str(cache)], check=True)
        return target

    layer = artifact("layer", layer_source) / "python"
    tasks = {source: artifact("function", source) for source in function_sources}
    for built in (layer.parent, *tasks.values()):
        for path in built.rglob("*"):  # as SAM's zip gives them to Lambda
            os.utime(path, (SAM_ZIP_TIME, SAM_ZIP_TIME), follow_symlinks=False)
    return Layout(layer, tasks)


class InvocationFailed(Exception):
    """The child did not answer (it raised, or printed no report)."""


def invoke(
    layout: Layout,
    source: str,
    handler: str,
    event: Any,
    environment: dict[str, str],
    *options: str,
    warm: bool = False,
) -> dict[str, Any]:
    """One cold invocation: {"import": s, "first": s, "response": ...}, and a second, warm, one
    with `warm` (`options`: the interpreter's, e.g. `-X importtime`)."""
    request = {"path": layout.path(source), "handler": handler, "event": event, "warm": warm}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", *options, str(CHILD)],
        input=json.dumps(request),
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise InvocationFailed(f"{source} exited {done.returncode}:\n{done.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(lines[-1])
    report["stderr"] = done.stderr
    return report
