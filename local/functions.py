"""The template's functions, run in-process as Lambda would run them.

Each function's handler module is loaded from its file under a name of its own (every handler
is an `app.py`), with the template's layers on `sys.path`. An invocation gets the function's
environment exactly as the template defines it, plus the variables the Lambda runtime sets, a
Lambda context, and an event and a result that go through JSON as they do on Lambda.

The environment belongs to the process, so invocations run one at a time, process-wide, each
with its own function's environment in place. When the next invocation is of another function,
the shared package's per-container singletons are reset: each function sees a container of its
own, as on Lambda.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from local.config import MAX_LAMBDA_PAYLOAD_BYTES

log = logging.getLogger("local")

# One invocation at a time in the whole process (the environment is process-wide).
_INVOKE_LOCK = threading.RLock()
_last_container: list[tuple[str, str] | None] = [None]

# What a container keeps that the next function must not see (each function has a container of its
# own on Lambda): the shared package's per-container singletons (settings, clients), and the
# parameters Powertools fetched from SSM with the provider (and its client) it made for them.
CONTAINER_RESETS = (
    ("account_billing.core.wiring", "reset_containers"),
    ("aws_lambda_powertools.utilities.parameters", "clear_caches"),
)


class InvocationError(Exception):
    """The function failed: it raised, ran out of time, or returned what Lambda cannot send back."""


class PayloadTooLarge(InvocationError):
    """The event is over Lambda's invocation payload limit."""


@dataclass(frozen=True)
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str  # module.attribute, as in the template
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 3
    memory: int = 128
    log_group: str = ""

    @property
    def module_file(self) -> Path:
        module = self.handler.rsplit(".", 1)[0]
        path = self.code_dir.joinpath(*module.split("."))
        return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


@dataclass
class LambdaContext:
    """The Lambda context object handed to a handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    tenant_id: str | None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables for the duration of the block."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _on_path(directory: Path) -> Iterator[None]:
    entry = str(directory)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        sys.path.remove(entry)


@contextmanager
def _powertools_environment() -> Iterator[None]:
    """Powertools takes the metrics namespace, the service and the log level from the
    environment when the shared package is imported: in Lambda, by each container with its own
    function's values. In this process the package is imported once, so its Metrics and Logger
    take the invoked function's values for the invocation (and give back what they had)."""
    module = sys.modules.get("account_billing.core.observability")
    provider = getattr(getattr(module, "metrics", None), "provider", None)
    name = getattr(getattr(module, "logger", None), "name", None)
    if provider is None or name is None:
        yield
        return
    logger = logging.getLogger(name)
    saved = provider.namespace, provider.service, logger.level
    provider.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
    provider.service = os.environ.get("POWERTOOLS_SERVICE_NAME")
    logger.setLevel((os.environ.get("POWERTOOLS_LOG_LEVEL") or "INFO").upper())
    try:
        yield
    finally:
        provider.namespace, provider.service, level = saved
        logger.setLevel(level)


def _reset_containers() -> None:
    for module_name, function in CONTAINER_RESETS:
        module = sys.modules.get(module_name)
        if module is not None:
            getattr(module, function)()


class InvocationObserver(Protocol):
    """Sees each invocation as CloudWatch would (`local.telemetry`): around it, its output."""

    def invocation(self, function: LocalFunction, context: LambdaContext) -> AbstractContextManager[None]: ...


class FunctionRuntime:
    """Loads and invokes the functions of one stack."""

    observer: InvocationObserver | None = None

    def __init__(
        self,
        stack: str,
        functions: Mapping[str, LocalFunction],
        *,
        layer_dirs: list[Path],
        aws_environment: Mapping[str, str | None],
    ) -> None:
        self.stack = stack
        self.functions = dict(functions)
        self.layer_dirs = layer_dirs
        self.aws_environment = dict(aws_environment)
        self._modules: dict[str, ModuleType] = {}
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}

    def _module_name(self, logical_id: str) -> str:
        return "_local_function_" + re.sub(r"\W", "_", f"{self.stack}_{logical_id}")

    def environment_of(self, function: LocalFunction) -> dict[str, str | None]:
        """The function's environment: the template's variables, then what Lambda reserves."""
        return {
            **function.environment,
            **self.aws_environment,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "_HANDLER": function.handler,
        }

    @contextmanager
    def _container(self, function: LocalFunction) -> Iterator[None]:
        with (
            _INVOKE_LOCK,
            _environment(self.environment_of(function)),
            _on_path(function.code_dir),
            _powertools_environment(),
        ):
            key = (self.stack, function.logical_id)
            if _last_container[0] != key:
                _reset_containers()
                _last_container[0] = key
            yield

    def load(self) -> None:
        """Import every function's handler module (its init phase), as a cold start would.

        A function whose init fails is reported and left out, as on Lambda: its invocations
        fail (and retry the init, so a fix to its code is picked up) while the others work."""
        for entry in reversed(self.layer_dirs):
            if str(entry) not in sys.path:
                sys.path.insert(0, str(entry))
        for logical_id in self.functions:
            self._init(logical_id)

    @property
    def broken(self) -> list[str]:
        """The functions whose init failed."""
        return [logical_id for logical_id in self.functions if logical_id not in self._handlers]

    def _init(self, logical_id: str) -> bool:
        function = self.functions[logical_id]
        name = self._module_name(logical_id)
        try:
            spec = importlib.util.spec_from_file_location(name, function.module_file)
            if spec is None or spec.loader is None:
                raise ImportError(f"no handler module at {function.module_file}")
            module = importlib.util.module_from_spec(spec)
            with self._container(function):
                sys.modules[name] = module
                spec.loader.exec_module(module)
                handler = getattr(module, function.handler.rsplit(".", 1)[1])
        except Exception:
            sys.modules.pop(name, None)
            log.exception("%s failed to initialize (Runtime.ImportModuleError on Lambda)", logical_id)
            return False
        self._modules[logical_id] = module
        self._handlers[logical_id] = handler
        return True

    def unload(self) -> None:
        for logical_id in self._modules:
            sys.modules.pop(self._module_name(logical_id), None)
        self._modules.clear()
        self._handlers.clear()
        if _last_container[0] and _last_container[0][0] == self.stack:
            _last_container[0] = None

    def module(self, logical_id: str) -> ModuleType:
        return self._modules[logical_id]

    @property
    def modules(self) -> dict[str, ModuleType]:
        return dict(self._modules)

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Run the function on `event`; its result as Lambda returns it (through JSON)."""
        function = self.functions[logical_id]
        payload = json.dumps(event)
        if len(payload.encode()) > MAX_LAMBDA_PAYLOAD_BYTES:
            raise PayloadTooLarge(f"{logical_id}: the event is over Lambda's 6 MB payload limit")
        if logical_id not in self._handlers and not self._init(logical_id):
            raise InvocationError(f"{logical_id} failed to initialize")
        with self._container(function):
            context = LambdaContext(
                function_name=function.name,
                memory_limit_in_mb=function.memory,
                invoked_function_arn=function.arn,
                aws_request_id=str(uuid.uuid4()),
                log_group_name=function.log_group,
                log_stream_name="local",
                deadline=time.monotonic() + function.timeout,
            )
            started = time.monotonic()
            observed = self.observer.invocation(function, context) if self.observer else nullcontext()
            try:
                with observed:
                    result = self._handlers[logical_id](json.loads(payload), context)
            except Exception as exc:
                log.exception("%s raised (request %s)", logical_id, context.aws_request_id)
                raise InvocationError(f"{logical_id} raised {type(exc).__name__}") from exc
        elapsed = time.monotonic() - started
        if elapsed > function.timeout:
            log.error(
                "%s ran %.1f s, over its %d s timeout: Lambda would have stopped it",
                logical_id,
                elapsed,
                function.timeout,
            )
            raise InvocationError(f"{logical_id} timed out")
        try:
            response = json.dumps(result)
        except (TypeError, ValueError) as exc:
            log.error("%s returned a result Lambda cannot serialize: %s", logical_id, exc)
            raise InvocationError(f"{logical_id} returned an unserializable result") from exc
        if len(response.encode()) > MAX_LAMBDA_PAYLOAD_BYTES:
            log.error("%s returned over Lambda's 6 MB response limit", logical_id)
            raise InvocationError(f"{logical_id} response too large")
        return json.loads(response)
