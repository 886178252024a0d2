"""The embedded local stack: moto as AWS, the template's resources in it, the functions in
process behind a local API Gateway, the JWT authorizer, event sources and the scheduler clock.

    with LocalStack(port=0) as stack:
        token = stack.issue_token("alice")
        httpx.get(f"{stack.base_url}/v1/account", headers={"Authorization": f"Bearer {token}"})

moto keeps its state per process. A stack resets it when it starts alone; stacks running at the
same time in one process share it, and stay apart by the unique prefix of their resource names.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import boto3
import httpx

from local import cdn, dynamodb_atomic, s3_cors, s3_post_policy
from local.apigw import ApiContext, Cors, HttpRequest, HttpResponse, RouteTable
from local.auth import TokenIssuer, load_or_create_key, public_jwk
from local.clock import ClockPages, LocalClock, TimeMachine
from local.config import ACCOUNT_ID, HOST, REGION, STATE_DIR, STRIPE_KEY_PARAMETER, StripeSettings, stripe_settings
from local.events import EventPages, EventTap, template_buses
from local.functions import FunctionRuntime, LocalFunction
from local.gateway import Gateway, HttpServer
from local.identity import http_api_authorizers, issuer_for, pseudo_parameters, stack_parameters
from local.intrinsics import Resolver, environment_strings
from local.mailbox import sent_messages
from local.openapi import merged_document
from local.operability import operability_pages
from local.pages import LocalPages
from local.resources import Provisioned, Provisioner
from local.schedules import ScheduleClock
from local.simulated_stripe import SECRET_PARAMETER, SimulatedStripe
from local.sources import EventPoller
from local.state import Resources as StateResources
from local.state import SavedState, StateNotRestored
from local.telemetry import Telemetry
from local.template import ROOT, HttpRoute, functions, http_routes, load_template, resources
from local.three_d_secure import ThreeDSecurePages
from local.ttl import TtlSweeper, ttl_tables
from local.webapp import WebApp, web_app_parameters

log = logging.getLogger("local")

_active: set[LocalStack] = set()
_active_lock = threading.Lock()


def _started[T](component: T | None) -> T:
    if component is None:
        raise RuntimeError("the local stack is not started")
    return component


class LocalStack:
    """The whole service on this machine. `start()`/`stop()`, or use it as a context manager."""

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = HOST,
        template: Mapping[str, Any] | Path | None = None,
        root: Path = ROOT,
        stack_name: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        secret_values: Mapping[str, str] | None = None,
        state_dir: Path = STATE_DIR,
        clock_interval: float = 1.0,
        poll_interval: float = 0.25,
        on_ready: Callable[[LocalStack], None] | None = None,
        keep_state: bool = False,
    ) -> None:
        """`keep_state`: restore the data saved under `state_dir` on start, save it on stop (`local.state`)."""
        self.port = port
        self.host = host
        if template is None or isinstance(template, Path):
            template = load_template() if template is None else load_template(template)
        self.template: dict[str, Any] = copy.deepcopy(dict(template))
        self.root = root
        self.stack_name = stack_name or f"local-{secrets.token_hex(3)}"
        self.parameters = dict(parameters or {})
        # Each stack signs Stripe's webhooks with its own secret under its own parameter name:
        # stacks sharing one moto (the tests) never read each other's.
        self.parameters.setdefault(SECRET_PARAMETER, f"/{self.stack_name}/stripe-webhook-secret")
        self.secret_values = dict(secret_values or {})
        self.state_dir = state_dir
        self.clock_interval = clock_interval
        self.poll_interval = poll_interval
        self.on_ready = on_ready  # called once everything is up, just before the API answers
        self.region = REGION
        self.account_id = ACCOUNT_ID
        self.stripe: StripeSettings = stripe_settings(state_dir)
        self._http: HttpServer | None = None
        self._moto: s3_cors.MotoServer | None = None
        self._session: boto3.session.Session | None = None
        self.moto_url = ""
        self.runtime: FunctionRuntime | None = None
        self.provisioned: Provisioned | None = None
        self.clock: ScheduleClock | None = None
        self.keep_state = keep_state
        self.saved_state = SavedState(state_dir)
        self.local_clock = LocalClock()  # what Stripe, the schedules and TTL follow (`local.clock`)
        self._running = False  # started completely: only then is its state worth saving
        self.time_machine: TimeMachine | None = None
        self.poller: EventPoller | None = None
        self.simulated_stripe: SimulatedStripe | None = None
        self.issuer: TokenIssuer | None = None
        self.telemetry: Telemetry | None = None
        self._openapi: dict[str, Any] | None = None
        self._openapi_lock = threading.Lock()
        self._placeholders: dict[str, str] = {}
        self.resolver = Resolver(self.template, parameters={}, pseudo={})  # resolves for real once started
        self.routes: list[HttpRoute] = []

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def serving(self) -> bool:
        """Whether the API answers requests."""
        return self._http is not None and self._http.serving

    @property
    def api_id(self) -> str:
        return hashlib.sha256(self.stack_name.encode()).hexdigest()[:10]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Start everything; a busy port raises `PortInUseError` before anything else starts."""
        self._http = HttpServer(self.host, self.port)
        self.port = self._http.port
        try:
            if self.keep_state:
                self.local_clock = LocalClock(self.saved_state.clock_offset())
            self._start_aws()
            self._provision()
            self._start_stripe()
            if self.keep_state:
                self._restore()
            self._start_functions()
            self._serve()
        except BaseException:
            self.stop()
            raise
        self._running = True
        return self

    def stop(self) -> None:
        """Stop every thread and server of the stack (saving its data first if it keeps its
        state, once nothing changes it any more). Safe to call twice."""
        if self.simulated_stripe is not None:
            self.simulated_stripe.stop_delivering()  # before the webhook route goes
        if self._http is not None:
            self._http.close()
            self._http = None
        for component in (self.time_machine, self.clock, self.poller, self.simulated_stripe):
            if component is not None:
                component.stop()
        if self._running and self.keep_state:
            self._save()
        self._running = False
        self.time_machine = self.clock = self.poller = self.simulated_stripe = None
        if self.runtime is not None:
            self.runtime.unload()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        with _active_lock:
            _active.discard(self)

    def _start_aws(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
        self._moto = s3_cors.MotoServer(ip_address=self.host, port=0, verbose=False)  # browsers get S3's CORS
        self._moto.start()
        moto_host, moto_port = self._moto.get_host_and_port()
        self.moto_url = f"http://{moto_host}:{moto_port}"
        with _active_lock:
            if not _active:
                # Alone in this process: start from an empty AWS (moto keeps its state per process).
                httpx.post(f"{self.moto_url}/moto-api/reset", timeout=10).raise_for_status()
            _active.add(self)
        fake = "local"  # moto takes any credentials; these never reach AWS
        dynamodb_atomic.install()  # each DynamoDB request atomic, as DynamoDB applies it
        s3_post_policy.install({fake: fake})  # uploads to presigned POSTs checked as S3 checks them
        self._session = boto3.session.Session(
            aws_access_key_id=fake, aws_secret_access_key=fake, region_name=self.region
        )

    def client(self, service: str) -> Any:
        """A boto3 client on the stack's moto."""
        session: Any = _started(self._session)  # any service the template names
        return session.client(service, endpoint_url=self.moto_url)

    def _provision(self) -> None:
        parameters = stack_parameters(self.template, self.parameters, web_app_parameters(self.port))
        self.resolver = Resolver(
            self.template,
            parameters=parameters,
            pseudo=pseudo_parameters(self.stack_name, self.region),
            placeholder=self._placeholder,
        )
        provisioner = Provisioner(
            self.template,
            stack=self.stack_name,
            resolver=self.resolver,
            client=self.client,
            region=self.region,
            account=self.account_id,
            moto_url=self.moto_url,
            secret_values=self.secret_values,
        )
        self.provisioned = provisioner.provision(api_id=self.api_id, api_endpoint=self.base_url)
        for item in self.provisioned.not_emulated:
            log.warning("not emulated locally: %s", item)
        if STRIPE_KEY_PARAMETER in parameters:
            self.client("ssm").put_parameter(
                Name=parameters[STRIPE_KEY_PARAMETER], Value=self.stripe.secret_key, Type="SecureString", Overwrite=True
            )

    def _state_resources(self) -> StateResources:
        provisioned = _started(self.provisioned)

        def of_kind(kind: str) -> dict[str, str]:
            return {
                logical: name for logical, name in provisioned.physical.items() if provisioned.kinds[logical] == kind
            }

        return StateResources(
            dynamodb=self.client("dynamodb"),
            s3=self.client("s3"),
            scheduler=self.client("scheduler"),
            tables=of_kind("AWS::DynamoDB::Table"),
            buckets=of_kind("AWS::S3::Bucket"),
            schedule_groups=of_kind("AWS::Scheduler::ScheduleGroup"),
            template_schedules={(s.group, s.name) for s in provisioned.schedules},
            names={**provisioned.physical, **provisioned.function_names},
        )

    def _restore(self) -> None:
        restored = self.saved_state.restore(self._state_resources())
        stripe = self.saved_state.stripe()
        if stripe is not None and self.simulated_stripe is not None:
            try:
                self.simulated_stripe.restore(stripe)
            except (ValueError, KeyError, TypeError) as exc:
                raise StateNotRestored(f"{self.saved_state.path}: Stripe: {exc}") from exc
        if restored:
            log.info("restored from %s: %s", self.saved_state.path, restored)

    def _save(self) -> None:
        stripe = self.simulated_stripe.snapshot() if self.simulated_stripe is not None else None
        try:
            counts = self.saved_state.save(self._state_resources(), clock_offset=self.local_clock.offset, stripe=stripe)
        except Exception:
            log.exception("the local state could not be saved; the previous one is kept")
            return
        log.info("saved to %s: %s", self.saved_state.path, counts)

    def _placeholder(self, logical: str, attribute: str) -> str:
        """A stand-in for an attribute of a resource the stack does not emulate."""
        value = f"local-placeholder-{logical}-{attribute}".lower()
        self._placeholders[value] = f"{logical}.{attribute} ({self.template['Resources'][logical]['Type']})"
        return value

    def _local_urls(self, environment: dict[str, str]) -> dict[str, str]:
        """The gateway serves the distributions over plain HTTP: their https:// URLs become http://."""
        secure = f"https://{self.host}:{self.port}{cdn.PATH_PREFIX}"
        return {
            name: value.replace(secure, secure.replace("https://", "http://", 1)) for name, value in environment.items()
        }

    def function_environment(self) -> dict[str, str | None]:
        """What the Lambda runtime and the local stack add to every function's environment."""
        config = self.state_dir / "aws-config-unused"  # keeps a developer's ~/.aws out of the way
        return {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(config),
            "AWS_PROFILE": None,
            "AWS_DEFAULT_PROFILE": None,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_SAM_LOCAL": "true",  # as under `sam local`: Powertools Tracer stays off
            "S3_ADDRESSING_STYLE": "path",  # moto's endpoint takes buckets path-style
            "STRIPE_MODE": "test",  # the local stack never takes a live key
            **({"STRIPE_API_BASE": self.simulated_stripe.api_base} if self.simulated_stripe else {}),
        }

    def _start_functions(self) -> None:
        provisioned = _started(self.provisioned)
        specs = {}
        for logical_id, spec in functions(self.template).items():
            name = provisioned.function_names[logical_id]
            logging_config = self.resolver(self.template["Resources"][logical_id]["Properties"].get("LoggingConfig"))
            specs[logical_id] = LocalFunction(
                logical_id=logical_id,
                name=name,
                arn=self.resolver.attributes[(logical_id, "Arn")],
                code_dir=(self.root / spec.code_uri).resolve(),
                handler=spec.handler,
                environment=self._local_urls(environment_strings(self.resolver(spec.environment))),
                timeout=spec.timeout,
                memory=spec.memory,
                log_group=(logging_config or {}).get("LogGroup") or f"/aws/lambda/{name}",
            )
        for function in specs.values():
            for variable, value in function.environment.items():
                for placeholder, origin in self._placeholders.items():
                    if placeholder in value:
                        log.warning(
                            "%s: %s uses %s, which is not emulated locally", function.logical_id, variable, origin
                        )
        layers = [
            (self.root / str(res["Properties"]["ContentUri"])).resolve()
            for res in resources(self.template, "AWS::Serverless::LayerVersion").values()
        ]
        self.runtime = FunctionRuntime(
            self.stack_name, specs, layer_dirs=layers, aws_environment=self.function_environment()
        )
        self.telemetry = self._telemetry()
        self.runtime.observer = self.telemetry
        self.runtime.load()

    def _serve(self) -> None:
        runtime, provisioned, http = _started(self.runtime), _started(self.provisioned), _started(self._http)
        key = load_or_create_key(self.state_dir)
        authorizers = http_api_authorizers(self.template, self.resolver, key)
        self.issuer = issuer_for(authorizers, key)
        apis = resources(self.template, "AWS::Serverless::HttpApi").values()
        cors_config = next((self.resolver(api["Properties"].get("CorsConfiguration")) for api in apis), None)
        self.routes = http_routes(self.template)
        self.clock = ScheduleClock(
            self.client("scheduler"),
            provisioned,
            runtime,
            region=self.region,
            account=self.account_id,
            interval=self.clock_interval,
            now=self.local_clock.datetime,
            offset=lambda: self.local_clock.offset,
            sqs=self.client("sqs"),
        )
        self.time_machine = self._time_machine(provisioned, self.clock)
        jwk = public_jwk(key)
        origins = cdn.s3_origins(self.template, self.resolver)
        s3 = self.client("s3")
        pages = LocalPages(
            openapi=self.openapi,
            mailbox=lambda to: sent_messages(self.account_id, self.region, to),
            schedules=self.clock.listing,
            run_schedule=self.run_schedule,
            resources=self.describe,
            jwks=lambda: {"keys": [jwk]},
            cdn=lambda method, path: cdn.serve(s3, origins, method, path),
            operability=operability_pages(self.template, self.resolver, _started(self.telemetry)),
            web_app=WebApp(self.base_url, self.issue_token),
        )
        gateway = Gateway(
            RouteTable(self.routes),
            runtime,
            ApiContext(self.api_id, self.account_id, f"{self.api_id}.execute-api.localhost"),
            authorizers=authorizers,
            cors=Cors.from_template(cors_config),
            local_pages=_first_page(*self._feature_pages(), pages),
            telemetry=self.telemetry,
        )
        if self.on_ready is not None:
            self.on_ready(self)  # e.g. the banner: printed before the first request is answered
        http.serve(gateway)
        self.poller = EventPoller(
            self.client("sqs"),
            runtime,
            self.region,
            provisioned.deliveries,
            provisioned.queue_sources,
            interval=self.poll_interval,
        )
        self.poller.start()
        self.clock.start()
        self.time_machine.start()
        if self.simulated_stripe is not None:
            self.simulated_stripe.deliver()

    def _feature_pages(self) -> list[Callable[[HttpRequest], HttpResponse | None]]:
        """The pages that drive the stack: its clock, its buses' events and usage, Stripe's
        3-D Secure test page and the pages Stripe hosts (statements, invoices, receipts)."""
        provisioned = _started(self.provisioned)
        tap = EventTap(
            self.client("events"),
            self.client("sqs"),
            self.stack_name,
            template_buses(self.template, provisioned.physical),
        )
        tap.install()
        pages: list[Callable[[HttpRequest], HttpResponse | None]] = [
            ClockPages(_started(self.time_machine)),
            EventPages(tap),
        ]
        if self.simulated_stripe is not None:
            pages.append(ThreeDSecurePages(self.simulated_stripe.simulator))
            pages.append(self.simulated_stripe.hosted_page)
        return pages

    def _time_machine(self, provisioned: Provisioned, schedules: ScheduleClock) -> TimeMachine:
        ttl = TtlSweeper(
            self.client("dynamodb"),
            ttl_tables(self.template, provisioned.physical),
            now=self.local_clock.time,
            offset=lambda: self.local_clock.offset,
        )
        simulator = self.simulated_stripe.simulator if self.simulated_stripe is not None else None
        return TimeMachine(
            self.local_clock,
            fire_schedules=schedules.tick,
            schedule_instants=schedules.one_time_instants,
            expire_items=ttl.sweep,
            stripe_tick=simulator.tick if simulator is not None else None,
            stripe_events=(lambda: len(simulator.events())) if simulator is not None else None,
            settle=lambda: self.poller.drain() if self.poller is not None else None,
        )

    def _telemetry(self) -> Telemetry:
        """What CloudWatch would see of the stack: its functions' output, the API's requests
        (access log lines in the stage's format), and the depth of its queues in moto."""
        api = next(iter(resources(self.template, "AWS::Serverless::HttpApi").values()), {})
        access_logs = self.resolver((api.get("Properties") or {}).get("AccessLogSettings")) or {}
        groups = {arn: logical for (logical, attribute), arn in self.resolver.attributes.items() if attribute == "Arn"}
        group = groups.get(access_logs.get("DestinationArn", ""))
        sqs = self.client("sqs")

        def queue_depth(namespace: str, name: str, dimensions: Mapping[str, str]) -> float | None:
            if (namespace, name) != ("AWS/SQS", "ApproximateNumberOfMessagesVisible") or "QueueName" not in dimensions:
                return None
            try:
                url = sqs.get_queue_url(QueueName=dimensions["QueueName"])["QueueUrl"]
                attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            except sqs.exceptions.QueueDoesNotExist:
                return None
            return float(attributes["Attributes"]["ApproximateNumberOfMessages"])

        return Telemetry(
            api_id=self.api_id,
            access_log_format=access_logs.get("Format"),
            access_log_group=str(self.resolver.refs.get(group, "")) if group else "",
            gauges=[queue_depth],
        )

    def _start_stripe(self) -> None:
        """In simulator mode: the offline Stripe, served on the loopback interface, with the
        stage's Prices (its events go to the webhook once the API is served)."""
        if self.stripe.mode == "simulator":
            parameters = stack_parameters(self.template, self.parameters, web_app_parameters(self.port))
            self.simulated_stripe = SimulatedStripe(
                self.base_url, parameters, lambda: self.client("ssm"), clock=self.local_clock
            )
            self.simulated_stripe.start()

    # ------------------------------------------------------------------ conveniences
    def issue_token(self, sub: str = "alice", *, expires_in: int = 3600, **claims: Any) -> str:
        """A token the stack's authorizer accepts; `claims` override (None removes one)."""
        if self.issuer is None:
            raise RuntimeError("the stack is not started")
        return self.issuer.issue(sub, expires_in=expires_in, **claims)

    def openapi(self) -> dict[str, Any]:
        with self._openapi_lock:
            if self._openapi is None:
                modules = _started(self.runtime).modules
                self._openapi = merged_document(modules, self.routes, server_url=self.base_url)
            return self._openapi

    def describe(self) -> dict[str, Any]:
        provisioned = _started(self.provisioned)
        return {
            "stack": self.stack_name,
            "api": self.base_url,
            "aws_endpoint": self.moto_url,
            "region": self.region,
            "resources": provisioned.describe(),
            "functions": dict(provisioned.function_names),
            "stripe": self.stripe.mode,
            # Stripe's API as the functions reach it (the simulator's, or Stripe's own in test mode)
            "stripe_api": self.simulated_stripe.api_base if self.simulated_stripe else "https://api.stripe.com",
        }

    def function_arn(self, function: str) -> str:
        """The ARN a schedule or notification names the function by (`!GetAtt Function.Arn`)."""
        return str(self.resolver.attributes[(function, "Arn")])

    def invoke(self, function: str, event: Any) -> Any:
        """Invoke a function of the stack directly, in-process."""
        return _started(self.runtime).invoke(function, event)

    def run_schedule(self, name: str) -> dict[str, Any]:
        """Run a schedule now; what it queued (a hold's release) is done when this returns."""
        result = _started(self.clock).run_now(name)
        if self.poller is not None:
            self.poller.drain()
        return result

    def advance(self, days: float = 0, *, hours: float = 0) -> dict[str, Any]:
        """Move the local clock forward, running what falls due meanwhile (`local.clock`)."""
        return _started(self.time_machine).advance(timedelta(days=days, hours=hours))


def _first_page(
    *handlers: Callable[[HttpRequest], HttpResponse | None],
) -> Callable[[HttpRequest], HttpResponse | None]:
    """The local pages of several modules, tried in order."""

    def serve(request: HttpRequest) -> HttpResponse | None:
        for handler in handlers:
            if (page := handler(request)) is not None:
                return page
        return None

    return serve
