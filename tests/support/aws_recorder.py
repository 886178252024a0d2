"""pytest plugin: makes the tests' AWS as strict as AWS where moto is not.

- IAM: every AWS API call a function of template.yaml makes during the run is recorded through
  botocore's event hooks (on every session and client, Powertools' included) and attributed to
  the function whose handler file (`functions/<name>/app.py`) is on the calling stack, in the
  tests or in a local stack's runtime; work a function hands to a thread pool stays its own.
  Calls with no function on the stack are test setup and are not recorded. At the end of the
  session (on the xdist controller, from every worker's recording) each call is evaluated
  against the function's policy in template.yaml: a missing permission fails the run.
- DynamoDB: every request is checked against DynamoDB's documented limits
  (`tests.support.dynamodb_limits`).
- S3: uploads to presigned POSTs are checked against their policy (`local.s3_post_policy`).

`--aws-calls=FILE` writes the run's recording; `python -m tests.support.iam FILE` evaluates it.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import boto3
import botocore.handlers
import pytest

from local import s3_post_policy
from local.config import ACCOUNT_ID
from tests.support import dynamodb_limits
from tests.support.iam import (
    TEST_STACK,
    Call,
    Environment,
    Recording,
    Report,
    check,
    function_files,
    referenced_variables,
)
from tests.support.iam_actions import NotAuthorizable, authorizations, presigned_post_authorizations

_RUNTIME_FILE = str(Path(__file__).resolve().parents[2] / "local" / "functions.py")
# The credentials the code signs with in the tests: mock_aws replaces the environment's with
# moto's fake ones (moto/core/models.py), and a local stack hands its functions "local"
# (local/stack.py). The S3 POST check verifies signatures made with them.
TEST_CREDENTIALS = {"FOOBARKEY": "FOOBARSECRET", "testing": "testing", "local": "local"}


@dataclass(frozen=True)
class Caller:
    """The function a call belongs to, and the environment it runs in."""

    function: str
    environment: Environment


class Recorder:
    """Records the authorizations each function's AWS calls need."""

    def __init__(self) -> None:
        self.recording = Recording()
        self._lock = threading.Lock()
        self._files = function_files()
        self._variables = referenced_variables()
        self._inherited = threading.local()

    # ------------------------------------------------------------------ attribution
    def caller(self, frame: FrameType | None) -> Caller | None:
        """The template function on the stack above `frame` (innermost), if any."""
        function = None
        stack = TEST_STACK
        while frame is not None:
            filename = frame.f_code.co_filename
            if function is None:
                function = self._files.get(filename)
            elif filename == _RUNTIME_FILE:
                runtime = frame.f_locals.get("self")
                stack = getattr(runtime, "stack", stack)  # a local stack's FunctionRuntime
                break
            frame = frame.f_back
        if function is None:
            inherited: Caller | None = getattr(self._inherited, "caller", None)
            return inherited
        bindings = tuple(
            sorted(
                (reference, os.environ[variable])
                for variable, reference in self._variables.get(function, {}).items()
                if variable in os.environ
            )
        )
        return Caller(function, Environment(stack, bindings))

    @contextmanager
    def working_for(self, caller: Caller | None) -> Any:
        previous = getattr(self._inherited, "caller", None)
        self._inherited.caller = caller
        try:
            yield
        finally:
            self._inherited.caller = previous

    # ------------------------------------------------------------------ recording
    def record(self, caller: Caller, operation: str, compute: Callable[[], list[Any]]) -> None:
        try:
            found = compute()
        except (NotAuthorizable, KeyError) as exc:
            with self._lock:
                self.recording.unauthorizable[(caller.function, operation, str(exc))] += 1
            return
        with self._lock:
            for authorization in found:
                self.recording.calls[Call(caller.environment.key(), caller.function, operation, authorization)] += 1

    def before_parameter_build(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if getattr(self._inherited, "presigning", False):
            return  # botocore builds a presigned POST from a CreateBucket request it never sends
        caller = self.caller(sys._getframe(1))
        if caller is None:
            return
        service = model.service_model.service_name
        region = context.get("client_region") or os.environ.get("AWS_REGION", "")
        self.record(
            caller,
            f"{service}.{model.name}",
            lambda: authorizations(service, model.name, params, region, ACCOUNT_ID),
        )

    def wrap_presigned_post(self, class_attributes: dict[str, Any], **_: Any) -> None:
        original = class_attributes.get("generate_presigned_post")
        if original is None or getattr(original, "records_iam", False):
            return
        recorder = self

        def generate_presigned_post(client: Any, Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:
            caller = recorder.caller(sys._getframe(1))
            if caller is not None:
                region = client.meta.region_name
                recorder.record(
                    caller,
                    "s3.PresignedPost",
                    lambda: presigned_post_authorizations(Bucket, Key, region, ACCOUNT_ID),
                )
            recorder._inherited.presigning = True
            try:
                return original(client, Bucket, Key, *args, **kwargs)
            finally:
                recorder._inherited.presigning = False

        generate_presigned_post.records_iam = True  # type: ignore[attr-defined]
        class_attributes["generate_presigned_post"] = generate_presigned_post

    def install(self) -> None:
        """Hook every botocore session made from now on, and the ones that exist already."""
        handlers: list[tuple[str, Callable[..., Any]]] = [
            ("before-parameter-build", self.before_parameter_build),
            ("creating-client-class.s3", self.wrap_presigned_post),
        ]
        botocore.handlers.BUILTIN_HANDLERS.extend(handlers)
        existing = boto3.DEFAULT_SESSION
        if existing is not None:
            for event, handler in handlers:
                existing._session.register(event, handler)
        submit = concurrent.futures.ThreadPoolExecutor.submit
        recorder = self

        def submit_as_caller(pool: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            caller = recorder.caller(sys._getframe(1))

            def run() -> Any:
                with recorder.working_for(caller):
                    return fn(*args, **kwargs)

            return submit(pool, run)

        concurrent.futures.ThreadPoolExecutor.submit = submit_as_caller  # type: ignore[method-assign]


# ------------------------------------------------------------------ the pytest plugin

_RECORDER = pytest.StashKey[Recorder]()
_OUTPUT_KEY = "aws_calls"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--aws-calls", metavar="FILE", help="write the AWS calls the functions made (JSON) to FILE")


def pytest_configure(config: pytest.Config) -> None:
    recorder = Recorder()
    recorder.install()
    config.stash[_RECORDER] = recorder
    dynamodb_limits.install()
    s3_post_policy.install(TEST_CREDENTIALS)
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(IamCheck(recorder), "aws-iam-check")


@pytest.fixture
def aws_calls(request: pytest.FixtureRequest) -> Callable[[], Recording]:
    """The recording of the calls the functions made since the test started."""
    recording = request.config.stash[_RECORDER].recording
    calls, unauthorizable = Counter(recording.calls), Counter(recording.unauthorizable)

    def since() -> Recording:
        return Recording(recording.calls - calls, recording.unauthorizable - unauthorizable)

    return since


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker hands its recording to the controller
        recording = session.config.stash[_RECORDER].recording
        session.config.workeroutput[_OUTPUT_KEY] = json.dumps(recording.to_json())  # type: ignore[attr-defined]


class IamCheck:
    """On the controller (or a run without xdist): gathers the recordings, evaluates them."""

    def __init__(self, recorder: Recorder) -> None:
        self.recording = recorder.recording
        self.report: Report | None = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {}).get(_OUTPUT_KEY)
        if output:
            self.recording.merge(Recording.from_json(json.loads(output)))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        path = session.config.getoption("--aws-calls")
        if path:
            Path(path).write_text(json.dumps(self.recording.to_json(), indent=1))
        if not self.recording.calls and not self.recording.unauthorizable:
            return
        self.report = check(self.recording)
        if not self.report.ok and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None:
            return
        terminalreporter.section("IAM: the functions' AWS calls against their policies in template.yaml")
        for line in self.report.lines():
            terminalreporter.write_line(line)
        if not self.report.ok:
            terminalreporter.write_line("IAM check FAILED: fix the function's policy in template.yaml", red=True)
