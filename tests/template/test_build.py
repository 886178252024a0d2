"""The deployable artifacts, built by the script `sam build` runs, checked as Lambda runs them.

`sam build` builds every function and the layer through build/Makefile (`BuildMethod:
makefile`), which runs build/lambda_artifact.py in a copy of the CodeUri/ContentUri folder. Here
the same script builds every artifact of template.yaml for this machine, taking the pinned
requirements from this environment's installed packages (offline, versions checked) instead of
manylinux arm64 wheels; the rest is what `sam build` produces.

Bytecode survives packaging. SAM's zips record every file as of 1980-01-01, and Lambda's
/var/task and /opt are read-only, so every file's mtime here is set to 1980-01-01 before
anything runs: a timestamp-based .pyc no longer matches its source and Python compiles the
module again on every cold start; an unchecked-hash .pyc is used as it is. Each function then
answers once in a fresh `python -I -S -B` whose `sys.path` holds only its artifact, the layer and
the standard library (tests/template/lambda_probe.py). Import compiles a source file only through
`importlib`'s `SourceLoader.source_to_code`, which the probe wraps before importing anything:
a module of the artifact that went through it was compiled, every other one came from its
bytecode. The first test shows the probe catching timestamp-based bytecode, so the check can fail.

Artifacts answer alone. In the same run each handler answers a sample event of
`events/<function>/` (SAMPLES says which, and why it needs no Stripe call). AWS is a moto server
in this process with the template's resources, reached through AWS_ENDPOINT_URL; Stripe is out of
reach (HTTPS goes to a closed proxy port), so a Stripe call would turn the answer into an error.
Nothing of the development environment (its packages, stripe_simulator, local, tests) can be
imported, and nothing is loaded from anywhere but the artifact, the layer and the standard library.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import importlib.metadata
import io
import json
import os
import secrets
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from local.identity import pseudo_parameters, stack_parameters
from local.intrinsics import Resolver, environment_strings
from local.resources import Provisioned, Provisioner
from local.template import ROOT, FunctionSpec, functions, load_template, resources

pytestmark = pytest.mark.xdist_group("artifacts")  # one build per session, in one worker

BUILD_SCRIPT = ROOT / "build" / "lambda_artifact.py"
BUILD_MAKEFILE = ROOT / "build" / "Makefile"
PROBE = Path(__file__).with_name("lambda_probe.py")
EVENTS = ROOT / "events"
SAM_ZIP_TIME = 315532800  # 1980-01-01T00:00:00Z, the time SAM's zips give every file
REGION = "eu-west-1"
SUB = "6c1f0e2a-5d1b-4a8e-9b9e-2f4d8c7a1e01"  # the caller of every sample event
NO_PROXY_HOSTS = "127.0.0.1,localhost"
CLOSED_PROXY = "http://127.0.0.1:9"  # nothing listens: any call outside moto fails at once
PROJECT_ONLY = ("stripe_simulator", "local", "tests", "bench", "docs")  # never shipped


@dataclass(frozen=True)
class Sample:
    """The event a function answers here, in this order (the account comes first)."""

    function: str
    event: str  # under events/
    expected: Callable[[Any], bool]
    why: str


def _status(code: int) -> Callable[[Any], bool]:
    return lambda response: isinstance(response, dict) and response.get("statusCode") == code


SAMPLES = [
    Sample("ProfileFunction", "profile/create_account", _status(201), "creates the account; no Stripe call"),
    Sample("AvatarFunction", "avatar/request_upload", _status(200), "a presigned POST; a JPEG is put at its key"),
    Sample(
        "AvatarValidatorFunction",
        "avatar_validator/object_created",  # naming that upload's bucket and key
        lambda response: response == {"outcomes": {"published": 1}},
        "decodes, re-encodes and publishes the upload with Pillow from its artifact",
    ),
    Sample("EmailsFunction", "emails/list_emails", _status(200), "the account's addresses"),
    Sample("SpendingFunction", "spending/get_spending", _status(200), "month-to-date spend"),
    Sample(
        "UsageRecorderFunction",
        "usage_recorder/usage_queue_batch",
        lambda response: response == {"batchItemFailures": []},
        "adds a batch of the usage queue to the month's spend",
    ),
    Sample("PaymentMethodsFunction", "payment_methods/list_payment_methods", _status(200), "cards from DynamoDB"),
    Sample("SubscriptionsFunction", "subscriptions/get_subscription", _status(200), "the mirrored subscription"),
    Sample("InvoicesFunction", "invoices/list_invoices", _status(200), "no Stripe customer yet: no backfill"),
    Sample(
        "PreauthReleaseFunction",
        "preauth_release/hourly_sweep",
        lambda response: isinstance(response, dict) and response.get("due") == 0 and response.get("queued") == 0,
        "no hold is due: nothing queued, no Stripe call",
    ),
    Sample(
        "SecurityNoticesFunction",
        "security_notices/security_notice",
        lambda response: response == {"outcome": "sent"},
        "tells the account's primary address (from the sign-up token) its User ID changed, through SES",
    ),
    Sample("ExportsFunction", "exports/start_export", _status(202), "starts an export: one transaction, one message"),
    Sample(
        "AccountExportsFunction",
        "account_exports/export_requested",  # the sample's export is another one: nothing to build
        lambda response: response == {"batchItemFailures": []},
        "finds no such export and leaves nothing of it in the export bucket",
    ),
    Sample(
        "StripeWebhookFunction",
        "stripe_webhook/stripe_event",  # see _signed_webhook
        lambda response: _status(200)(response) and json.loads(response["body"])["outcome"] == "ignored",
        "verified with the secret from SSM and recorded; the account has no Stripe customer: no Stripe call",
    ),
]


# ---------------------------------------------------------------------------- building
def _build_command(kind: str, source: Path, artifact: Path, cache: Path) -> list[str]:
    """The command build/Makefile runs, taking the requirements from this environment."""
    site_packages = sysconfig.get_paths()["purelib"]
    command = [sys.executable, str(BUILD_SCRIPT), kind, str(source), str(artifact)]
    return [*command, "--site-packages", site_packages, "--deps-cache", str(cache)]


@dataclass(frozen=True)
class Artifacts:
    root: Path
    layer: Path  # the layer's content: Lambda's /opt/python
    tasks: dict[str, Path]  # function logical id → its artifact: Lambda's /var/task


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    template = load_template()
    root = tmp_path_factory.mktemp("artifacts")
    cache = tmp_path_factory.mktemp("dependencies")
    (layer_id, layer), *others = resources(template, "AWS::Serverless::LayerVersion").items()
    assert not others, "one layer: every function gets it (Globals)"
    build = [("layer", layer_id, layer["Properties"]["ContentUri"])]
    build += [("function", name, spec.code_uri) for name, spec in functions(template).items()]
    for kind, logical_id, uri in build:
        subprocess.run(_build_command(kind, ROOT / uri, root / logical_id, cache), check=True)  # noqa: S603 -- our script
    for path in root.rglob("*"):  # as SAM's zip gives them to Lambda
        os.utime(path, (SAM_ZIP_TIME, SAM_ZIP_TIME), follow_symlinks=False)
    tasks = {logical_id: root / logical_id for kind, logical_id, _ in build if kind == "function"}
    return Artifacts(root, root / layer_id / "python", tasks)


# ---------------------------------------------------------------------------- running as Lambda
def _probe(
    task: Path, layer: Path, handler: str, event: Any, *, env: dict[str, str], absent: list[str]
) -> dict[str, Any]:
    """Run `handler` once on `event` in a fresh interpreter laid out as Lambda (lambda_probe.py)."""
    request = {"task": str(task), "layer": str(layer), "handler": handler, "event": event, "absent": absent}
    done = subprocess.run(  # noqa: S603 -- this interpreter, our probe
        [sys.executable, "-I", "-S", "-B", str(PROBE)],
        input=json.dumps(request),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["log"] = done.stdout + done.stderr
    return report


def _top_level_names(folder: Path) -> set[str]:
    return {path.name.split(".")[0] for path in folder.iterdir()} - {"__pycache__"}


@cache
def _installed_modules() -> frozenset[str]:
    return frozenset(importlib.metadata.packages_distributions())


def _development_only(task: Path, layer: Path) -> list[str]:
    """Every module this environment (or the project) has that the artifact and layer do not ship."""
    installed = _installed_modules()
    shipped = _top_level_names(task) | _top_level_names(layer)
    candidates = (installed | set(PROJECT_ONLY)) - shipped
    return sorted(name for name in candidates if name.isidentifier() and not name.startswith("__"))


class Stack:
    """The template's resources in a moto server of this process, for functions in other processes."""

    def __init__(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        # moto keeps one state per process, other tests' included: names of our own keep apart
        self.name = f"artifacts-{secrets.token_hex(3)}"
        self.session = boto3.session.Session(
            aws_access_key_id="artifact-check", aws_secret_access_key="artifact-check", region_name=REGION
        )
        template = load_template()
        parameters = stack_parameters(template, {"Stage": "dev"})
        self.parameters = parameters
        self.resolver = Resolver(template, parameters=parameters, pseudo=pseudo_parameters(self.name, REGION))
        provisioner = Provisioner(
            template,
            stack=self.name,
            resolver=self.resolver,
            client=self.client,
            region=REGION,
            account=pseudo_parameters(self.name, REGION)["AWS::AccountId"],
            moto_url=self.url,
        )
        self.provisioned: Provisioned = provisioner.provision(api_id="artifacts", api_endpoint="http://127.0.0.1")

    def client(self, service: str) -> Any:
        session: Any = self.session  # any service the template names
        return session.client(service, endpoint_url=self.url)

    def environment(self, logical_id: str, spec: FunctionSpec, task: Path) -> dict[str, str]:
        """The function's environment as the template gives it, and what Lambda's runtime adds."""
        return {
            **environment_strings(self.resolver(spec.environment)),
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "artifact-check",
            "AWS_SECRET_ACCESS_KEY": "artifact-check",
            "AWS_SESSION_TOKEN": "artifact-check",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_LAMBDA_FUNCTION_NAME": self.provisioned.function_names[logical_id],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "LAMBDA_TASK_ROOT": str(task),
            "HTTPS_PROXY": CLOSED_PROXY,
            "HTTP_PROXY": CLOSED_PROXY,
            "NO_PROXY": NO_PROXY_HOSTS,
        }

    def stop(self) -> None:
        self.server.stop()


def _sample(path: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{path}.json").read_text())
    return event


def _jpeg() -> bytes:
    image = Image.linear_gradient("L").convert("RGB").resize((512, 512))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _signed_webhook(event: dict[str, Any], secret: str) -> dict[str, Any]:
    """The webhook sample, its invoice naming the sample account as Stripe copies a subscription's
    metadata into its invoices (`parent.subscription_details.metadata`), signed now as Stripe
    signs. That account has no Stripe customer, so the event is recorded and ignored with no
    Stripe call (without the account named, finding it would ask Stripe for the customer)."""
    body = json.loads(event["body"])
    body["data"]["object"]["parent"] = {"subscription_details": {"metadata": {"account": SUB}}}
    signed = copy.deepcopy(event)
    signed["body"] = json.dumps(body)
    timestamp = int(time.time())
    payload = f"{timestamp}.{signed['body']}".encode()
    signature = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    signed["headers"]["stripe-signature"] = f"t={timestamp},v1={signature}"
    return signed


@pytest.fixture(scope="module")
def runs(artifacts: Artifacts) -> Iterator[dict[str, dict[str, Any]]]:
    """Each function's report, answering its sample in SAMPLES' order; moto lives only as long
    as this fixture's own work (other tests of this worker reset moto between theirs)."""
    specs = functions(load_template())
    stack = Stack()
    try:
        ssm = stack.client("ssm")
        webhook_secret = f"whsec_{secrets.token_hex(16)}"
        # The stage's parameter names, which a local stack run earlier in this process (moto's
        # state is per process) may have put already: this run's values replace them.
        for name, value in (
            (stack.parameters["StripeWebhookSecretParameter"], webhook_secret),
            (stack.parameters["StripeSecretKeyParameter"], "sk_test_unreachable"),
        ):
            ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
        reports: dict[str, dict[str, Any]] = {}
        upload: dict[str, str] = {}
        for sample in SAMPLES:
            event = _sample(sample.event)
            if sample.function == "AvatarValidatorFunction":
                record = event["Records"][0]["s3"]
                record["bucket"]["name"], record["object"]["key"] = upload["bucket"], upload["key"]
            if sample.function == "StripeWebhookFunction":
                event = _signed_webhook(event, webhook_secret)
            task = artifacts.tasks[sample.function]
            spec = specs[sample.function]
            report = _probe(
                task,
                artifacts.layer,
                spec.handler,
                event,
                env=stack.environment(sample.function, spec, task),
                absent=_development_only(task, artifacts.layer),
            )
            reports[sample.function] = report
            if sample.function == "AvatarFunction" and "response" in report:
                fields = json.loads(report["response"]["body"])["fields"]
                upload = {"bucket": stack.provisioned.physical["AvatarBucket"], "key": fields["key"]}
                stack.client("s3").put_object(
                    Bucket=upload["bucket"], Key=upload["key"], Body=_jpeg(), ContentType="image/jpeg"
                )
        yield reports
    finally:
        stack.stop()


# ---------------------------------------------------------------------------- the checks
def test_the_probe_catches_a_module_compiled_from_source(tmp_path: Path) -> None:
    """The check can fail: timestamp-based bytecode, files dated as in SAM's zip, is compiled again;
    the same module with unchecked-hash bytecode is not."""
    layer = tmp_path / "layer"
    layer.mkdir()
    results = {}
    for mode in ("timestamp", "unchecked-hash"):
        task = tmp_path / mode
        task.mkdir()
        module = task / "control.py"
        module.write_text("def handler(event, context):\n    return {'echo': event}\n")
        compileall = [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", mode, str(task)]
        subprocess.run(compileall, check=True)  # noqa: S603 -- this interpreter, a standard module
        for path in [module, *task.rglob("*.pyc")]:
            os.utime(path, (SAM_ZIP_TIME, SAM_ZIP_TIME))
        results[mode] = _probe(task, layer, "control.handler", {"n": 1}, env={}, absent=[])
    assert results["timestamp"]["compiled"] == [str(tmp_path / "timestamp" / "control.py")]
    assert results["timestamp"]["from_bytecode"] == []
    assert results["unchecked-hash"]["compiled"] == []
    assert results["unchecked-hash"]["from_bytecode"] == ["control"]
    assert results["unchecked-hash"]["response"] == {"echo": {"n": 1}}


def _make_dry_run(target: str) -> subprocess.CompletedProcess[str]:
    """What `sam build` would run for `target` (in the resource's folder, with ARTIFACTS_DIR)."""
    command = ["make", "--dry-run", "--no-print-directory", "--makefile", str(BUILD_MAKEFILE), target]
    # not the settings of a make this test may run under (`make test`)
    env = {name: value for name, value in os.environ.items() if name not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    return subprocess.run(  # noqa: S603 -- make, our Makefile
        [*command, "ARTIFACTS_DIR=/artifacts"], capture_output=True, text=True, check=False, env=env
    )


def test_sam_builds_every_artifact_with_the_shared_recipe_for_lambdas_platform() -> None:
    template = load_template()
    runtime = template["Globals"]["Function"]["Runtime"]
    (architecture,) = template["Globals"]["Function"]["Architectures"]
    built = {
        **dict.fromkeys(functions(template), "function"),
        **dict.fromkeys(resources(template, "AWS::Serverless::LayerVersion"), "layer"),
    }
    for name, kind in built.items():
        resource = template["Resources"][name]
        assert resource["Metadata"]["BuildMethod"] == "makefile", name
        assert ROOT / resource["Metadata"]["ContextPath"] / "Makefile" == BUILD_MAKEFILE, name
        assert resource["Properties"].get("Runtime", runtime) == runtime, name
        assert resource["Properties"].get("Architectures", [architecture]) == [architecture], name
        recipe = _make_dry_run(f"build-{name}")
        assert recipe.returncode == 0, recipe.stderr
        assert recipe.stdout.split()[:2] == [runtime, str(BUILD_SCRIPT)], recipe.stdout
        assert f"{kind} . /artifacts --architecture {architecture}" in recipe.stdout.replace('"', "")
        if kind == "layer":
            assert resource["Properties"]["CompatibleRuntimes"] == [runtime]
            assert resource["Properties"]["CompatibleArchitectures"] == [architecture]
    assert _make_dry_run("build-NoSuchResource").returncode != 0


def test_every_function_answers_a_sample_here() -> None:
    assert [sample.function for sample in SAMPLES] != []
    assert {sample.function for sample in SAMPLES} == set(functions(load_template()))


def test_every_module_of_every_artifact_has_unchecked_hash_bytecode_named_as_lambda_sees_it(
    artifacts: Artifacts,
) -> None:
    checked = subprocess.run(  # noqa: S603 -- our script
        [sys.executable, str(BUILD_SCRIPT), "verify", str(artifacts.layer.parent), *map(str, artifacts.tasks.values())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert len(list(artifacts.layer.rglob("*.py"))) == len(list(artifacts.layer.rglob("*.cpython-313.pyc")))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.function)
def test_the_function_answers_its_sample_with_only_its_artifact_and_the_layer(
    runs: dict[str, dict[str, Any]], sample: Sample
) -> None:
    report = runs[sample.function]
    assert "error" not in report, report["error"]
    assert sample.expected(report["response"]), (sample.why, report["response"], report["log"][-3000:])
    assert report["elsewhere"] == []


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.function)
def test_the_function_imports_everything_from_bytecode_without_compiling(
    runs: dict[str, dict[str, Any]], sample: Sample
) -> None:
    report = runs[sample.function]
    assert report["compiled"] == []
    assert report["without_bytecode"] == []
    # the function's own module, the shared package and its libraries
    assert {"app", "account_billing", "boto3", "pydantic"} <= set(report["from_bytecode"])


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.function)
def test_nothing_of_the_development_environment_is_importable(
    artifacts: Artifacts, runs: dict[str, dict[str, Any]], sample: Sample
) -> None:
    absent = _development_only(artifacts.tasks[sample.function], artifacts.layer)
    assert {*PROJECT_ONLY, "moto", "httpx", "click", "pytest", "jwt", "cfnlint"} <= set(absent)
    assert runs[sample.function]["importable"] == {}


def test_stripe_and_pillow_ship_only_with_the_functions_that_use_them(artifacts: Artifacts) -> None:
    layer = _top_level_names(artifacts.layer)
    assert "stripe" not in layer
    assert "PIL" not in layer
    assert "stripe" in _top_level_names(artifacts.tasks["PaymentMethodsFunction"])
    assert "PIL" in _top_level_names(artifacts.tasks["AvatarValidatorFunction"])
    assert "stripe" not in _top_level_names(artifacts.tasks["EmailsFunction"])
