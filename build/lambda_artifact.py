"""Builds one Lambda artifact, a function or the shared layer, shipping hash-based bytecode.

SAM's own Python builder copies the code and unpacks wheels without compiling them, and SAM's
zips carry 1980 timestamps, so a timestamp-based .pyc never validates in Lambda; /var/task and
/opt are read-only there, so every cold start compiles everything again. This script lays the
artifact out as SAM's builder does (the pinned requirements, then the code), then compiles every
module with `--invalidation-mode unchecked-hash`, file names recorded as Lambda sees them
(/var/task for a function, /opt/python for the layer): the bytecode is used as it is, whatever
the files' timestamps.

SAM runs it through `build/Makefile` (`BuildMethod: makefile`) in its copy of the CodeUri or
ContentUri folder:

    python3.13 build/lambda_artifact.py function SOURCE ARTIFACTS_DIR
    python3.13 build/lambda_artifact.py layer SOURCE ARTIFACTS_DIR   # the content goes to python/
    python3.13 build/lambda_artifact.py verify ARTIFACTS_DIR...      # every module has valid bytecode

Dependencies come from pip for Lambda's platform (`--architecture`, default arm64; manylinux
wheels only, as SAM fetches them for a cross build), or, with `--site-packages DIR`, from an
installed environment, each pinned version checked: the tests build for this machine that way,
offline. `--deps-cache DIR` reuses the compiled dependencies of the same requirements.

Only the standard library at module level: SAM runs this with a bare python3.13.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import importlib.metadata
import importlib.util
import json
import marshal
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

PYTHON_VERSION = (3, 13)  # Lambda's runtime: the bytecode is for exactly this version
REQUIREMENTS = "requirements.txt"
# Never part of an artifact: the build's own inputs, local bytecode, hidden files.
IGNORED = shutil.ignore_patterns(REQUIREMENTS, "Makefile", "__pycache__", "*.pyc", ".*")
# Lambda's python3.13 runtime runs on Amazon Linux 2023 (glibc 2.34): every manylinux wheel from
# manylinux2014 (glibc 2.17) to manylinux_2_34 loads there. pip takes exactly the tags it is given.
GLIBC_MINORS = range(17, 35)
PLATFORMS = {
    architecture: (f"manylinux2014_{machine}", *(f"manylinux_2_{minor}_{machine}" for minor in GLIBC_MINORS))
    for architecture, machine in (("arm64", "aarch64"), ("x86_64", "x86_64"))
}
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, the source is not checked


@dataclass(frozen=True)
class Kind:
    """Where an artifact's content lands in Lambda."""

    prefix: str  # the path Lambda sees the content under
    subdir: str  # the content's folder inside the artifact


KINDS = {
    "function": Kind(prefix="/var/task", subdir=""),
    "layer": Kind(prefix="/opt/python", subdir="python"),
}


class BuildError(Exception):
    """The artifact cannot be built as asked."""


# ---------------------------------------------------------------------------- dependencies
def requirement_lines(path: Path) -> list[str]:
    """The requirement specifiers of a requirements file (comments and blank lines dropped)."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-"):
            raise BuildError(f"{path}: pip options are not supported here: {line}")
        if line:
            lines.append(line)
    return lines


class Source(Protocol):
    def key(self) -> str: ...

    def install(self, requirements: list[str], target: Path) -> None: ...


class PipSource:
    """pip, for Lambda's platform: manylinux wheels only, nothing built from source."""

    def __init__(self, architecture: str) -> None:
        if architecture not in PLATFORMS:
            raise BuildError(f"unknown architecture {architecture!r} (one of {', '.join(PLATFORMS)})")
        self.architecture = architecture

    def key(self) -> str:
        return f"pip:{self.architecture}"

    def install(self, requirements: list[str], target: Path) -> None:
        platforms = [arg for tag in PLATFORMS[self.architecture] for arg in ("--platform", tag)]
        with tempfile.TemporaryDirectory() as scratch:
            listing = Path(scratch) / REQUIREMENTS
            listing.write_text("\n".join(requirements) + "\n")
            command = [
                sys.executable,
                *("-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--root-user-action=ignore"),
                *("--no-compile", "--target", str(target)),  # compiled afterwards, hash-based
                *("--only-binary=:all:", "--implementation", "cp"),
                *("--python-version", ".".join(map(str, PYTHON_VERSION)), *platforms),
                *("--requirement", str(listing)),
            ]
            subprocess.run(command, check=True)  # noqa: S603 (arguments of our own)
        scripts = target / "bin"  # console scripts, for the build machine's interpreter: useless in Lambda
        if scripts.is_dir() and not (scripts / "__init__.py").exists():
            shutil.rmtree(scripts)


class EnvironmentSource:
    """The distributions installed in a site-packages folder (offline; this machine's platform),
    as pip would pick them for the requirements: their dependencies too, each version checked."""

    def __init__(self, site_packages: Path) -> None:
        self.site_packages = site_packages.resolve()
        self.installed = {
            _canonical(dist.metadata["Name"]): dist
            for dist in importlib.metadata.distributions(path=[str(self.site_packages)])
        }

    def key(self) -> str:
        return f"site-packages:{self.site_packages}"

    def install(self, requirements: list[str], target: Path) -> None:
        for dist in self._closure(requirements):
            for file in dist.files or ():
                relative = Path(str(file))
                if relative.parts[0] == ".." or "__pycache__" in relative.parts or relative.suffix == ".pyc":
                    continue  # console scripts live outside site-packages; bytecode is made afterwards
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(str(dist.locate_file(file))), destination)

    def _closure(self, requirements: list[str]) -> Iterator[importlib.metadata.Distribution]:
        # packaging is in every environment that has pip's tools (the tests'); pip mode needs none
        from packaging.markers import default_environment  # noqa: PLC0415
        from packaging.requirements import Requirement  # noqa: PLC0415

        environment = cast("dict[str, str]", default_environment())  # a TypedDict of strings
        copied: set[str] = set()
        expanded: set[tuple[str, frozenset[str]]] = set()
        pending = [(Requirement(line), frozenset({""})) for line in requirements]
        while pending:
            requirement, wanted_by = pending.pop()
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate({**environment, "extra": e}) for e in wanted_by):
                continue
            name = _canonical(requirement.name)
            dist = self.installed.get(name)
            if dist is None or not requirement.specifier.contains(dist.version, prereleases=True):
                found = "is not installed" if dist is None else f"is installed at {dist.version}"
                raise BuildError(f"{requirement} is required and {name} {found} in {self.site_packages}")
            if name not in copied:
                copied.add(name)
                yield dist
            extras = frozenset({"", *requirement.extras})
            if (name, extras) not in expanded:
                expanded.add((name, extras))
                pending.extend((Requirement(text), extras) for text in dist.requires or ())


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


# ---------------------------------------------------------------------------- bytecode
def compile_tree(path: Path, lambda_path: str) -> None:
    """Compile a file or folder to unchecked-hash bytecode named as Lambda sees it."""
    mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
    if path.is_dir():
        # force: compileall skips a file whose timestamp-based .pyc looks current
        ok = compileall.compile_dir(path, ddir=lambda_path, force=True, quiet=1, invalidation_mode=mode, workers=0)
    elif path.suffix == ".py":
        ok = compileall.compile_file(
            path, ddir=str(Path(lambda_path).parent), force=True, quiet=1, invalidation_mode=mode
        )
    else:
        ok = True
    if not ok:
        raise BuildError(f"{path} does not compile")


def bytecode_problems(root: Path, lambda_root: str) -> Iterator[str]:
    """What keeps a module under `root` from loading without compiling: no .pyc, another Python
    version, timestamp-based, stale (its source hash differs) or named with another path."""
    for source in sorted(root.rglob("*.py")):
        relative = source.relative_to(root)
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.is_file():
            yield f"{relative}: no bytecode"
            continue
        data = cached.read_bytes()
        flags = int.from_bytes(data[4:8], "little")
        if data[:4] != importlib.util.MAGIC_NUMBER:
            yield f"{relative}: bytecode of another Python version"
        elif flags != UNCHECKED_HASH:
            yield f"{relative}: bytecode is not unchecked-hash based (flags {flags:#b})"
        elif data[8:16] != importlib.util.source_hash(source.read_bytes()):
            yield f"{relative}: bytecode of another source"
        else:
            code = marshal.loads(data[16:])  # noqa: S302 (bytecode of the build being checked)
            if code.co_filename != f"{lambda_root}/{relative.as_posix()}":
                yield f"{relative}: bytecode names {code.co_filename}"


# ---------------------------------------------------------------------------- the artifact
def _link_tree(source: Path, target: Path) -> None:
    """Hard-link (or copy) every file of `source` into `target`."""
    shutil.copytree(source, target, copy_function=_link_or_copy, dirs_exist_ok=True)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _dependencies(requirements: list[str], target: Path, lambda_path: str, source: Source, cache: Path | None) -> None:
    """Install and compile the requirements into `target`, through the cache when there is one."""
    if not requirements:
        return
    if cache is None:
        source.install(requirements, target)
        compile_tree(target, lambda_path)
        return
    key = hashlib.sha256(
        json.dumps([sorted(requirements), source.key(), lambda_path, importlib.util.MAGIC_NUMBER.hex()]).encode()
    ).hexdigest()[:24]
    entry = cache / key
    if not entry.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=cache))
        source.install(requirements, partial)
        compile_tree(partial, lambda_path)
        try:
            partial.rename(entry)
        except OSError:  # another build made it meanwhile
            shutil.rmtree(partial)
    _link_tree(entry, target)


def build(kind: Kind, source_dir: Path, artifacts_dir: Path, source: Source, cache: Path | None = None) -> Path:
    """Build the artifact of `source_dir` into `artifacts_dir`; returns the folder Lambda sees
    as `kind.prefix`."""
    if sys.version_info[:2] != PYTHON_VERSION:
        raise BuildError(f"run this with Python {'.'.join(map(str, PYTHON_VERSION))}: the bytecode is for it")
    content = artifacts_dir / kind.subdir
    content.mkdir(parents=True, exist_ok=True)
    if any(content.iterdir()):
        raise BuildError(f"{content} is not empty")
    requirements_file = source_dir / REQUIREMENTS
    requirements = requirement_lines(requirements_file) if requirements_file.is_file() else []
    _dependencies(requirements, content, kind.prefix, source, cache)
    for entry in sorted(source_dir.iterdir()):
        if IGNORED(str(source_dir), [entry.name]):
            continue
        target = content / entry.name
        if target.exists():
            raise BuildError(f"{entry.name} of {source_dir} would replace a file of its requirements")
        if entry.is_dir():
            shutil.copytree(entry, target, ignore=IGNORED)
        else:
            shutil.copy2(entry, target)
        compile_tree(target, f"{kind.prefix}/{entry.name}")
    return content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in KINDS:
        command = commands.add_parser(name, help=f"build a {name} artifact")
        command.add_argument("source", type=Path, help="the CodeUri/ContentUri folder (code and requirements.txt)")
        command.add_argument("artifacts_dir", type=Path, help="where the artifact goes (SAM's ARTIFACTS_DIR)")
        command.add_argument("--architecture", default="arm64", choices=sorted(PLATFORMS))
        command.add_argument("--site-packages", type=Path, help="take dependencies from this environment")
        command.add_argument("--deps-cache", type=Path, help="reuse compiled dependencies kept here")
    verify = commands.add_parser("verify", help="check that every module of built artifacts has valid bytecode")
    verify.add_argument("artifacts", type=Path, nargs="+", help="built artifacts (a layer's has python/)")
    args = parser.parse_args(argv)
    try:
        if args.command == "verify":
            return _verify(args.artifacts)
        source: Source = EnvironmentSource(args.site_packages) if args.site_packages else PipSource(args.architecture)
        build(KINDS[args.command], args.source.resolve(), args.artifacts_dir.resolve(), source, args.deps_cache)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _verify(artifacts: list[Path]) -> int:
    failures = 0
    for artifact in artifacts:
        kind = KINDS["layer"] if (artifact / KINDS["layer"].subdir).is_dir() else KINDS["function"]
        problems = list(bytecode_problems(artifact / kind.subdir, kind.prefix))
        for problem in problems:
            print(f"{artifact}: {problem}", file=sys.stderr)
        failures += len(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
