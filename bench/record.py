"""Records what AWS and Stripe answer each cold-start scenario of `make bench` (bench/recordings/).

    python -m bench.record            # every scenario (about a minute)
    python -m bench.record profile    # some of them

The local stack (moto for AWS, the Stripe simulator served over HTTP, the template's
resources) is set up through its own HTTP API as a user would (an account, a card, a
subscription...); then each scenario's function answers its event once, built and laid out as
Lambda runs it (bench/lambda_layout.py), with AWS_ENDPOINT_URL and STRIPE_API_BASE pointing at
a recorder that forwards every request and keeps the answers (bench/replay.py). A recording
holds the function's environment, its event, what it must answer, and the exchanges; the bench
replays them. Run this again when a function's calls change (the bench says so: a request it
has no answer for).

Nothing here is a secret: the Stripe key is the simulator's test key, the webhook signing
secret a placeholder set for the recording.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import lambda_layout, uploads
from bench.recording import RECORDINGS, Recording
from bench.replay import Recorder, Upstream
from local.stack import LocalStack
from local.template import ROOT
from tests.support.events import http_event

WEBHOOK_SECRET = "whsec_bench_replay_placeholder_0000"  # noqa: S105 - a placeholder, set for the recording
LARGE_BODIES = {"camera_jpeg": uploads.camera_jpeg}
# What a function's environment must not carry into a replay: the local stack's own settings.
LOCAL_ONLY = ("AWS_SAM_LOCAL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "LAMBDA_TASK_ROOT")


@dataclass(frozen=True)
class Caller:
    sub: str
    token: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}


def _started[T](component: T | None) -> T:
    if component is None:
        raise RuntimeError("the local stack is not running in simulator mode (unset STRIPE_SECRET_KEY)")
    return component


class Session:
    """The local stack, and what a scenario sets up in it through the API."""

    def __init__(self, stack: LocalStack, api: httpx.Client) -> None:
        self.stack = stack
        self.api = api
        self.stripe = _started(stack.simulated_stripe)
        self.runtime = _started(stack.runtime)

    @property
    def simulator(self) -> Any:
        return self.stripe.simulator

    def post(self, caller: Caller, path: str, body: Any, **headers: str) -> Any:
        return self._ok(self.api.post(path, json=body, headers=caller.headers(**headers)))

    def account(self, name: str) -> Caller:
        sub = f"bench-{name}-{uuid.uuid4().hex[:8]}"
        caller = Caller(sub, self.stack.issue_token(sub))
        self._ok(self.api.post("/v1/account", json={"user_id": sub.replace("-", "_")}, headers=caller.headers()))
        return caller

    def add_card(self, caller: Caller) -> dict[str, Any]:
        headers = caller.headers(**{"idempotency-key": f"card-{uuid.uuid4()}"})
        added: dict[str, Any] = self._ok(
            self.api.post("/v1/billing/payment-methods", json={"payment_method": "pm_card_visa"}, headers=headers)
        )
        return added

    def change_plan(self, caller: Caller, plan: str) -> None:
        headers = caller.headers(**{"idempotency-key": f"plan-{uuid.uuid4()}"})
        self._ok(self.api.put("/v1/billing/subscription", json={"plan": plan}, headers=headers))

    def invoices_mirrored(self, caller: Caller, count: int = 1) -> None:
        """Wait until the webhook has mirrored the account's invoices (Stripe delivers them)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = self._ok(self.api.get("/v1/billing/invoices", headers=caller.headers()))
            if len(page["invoices"]) >= count and not self.simulator.webhooks.pending:
                return
            time.sleep(0.2)
        raise TimeoutError(f"the invoices of {caller.sub} were not mirrored")

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        if response.status_code >= 300:
            raise RuntimeError(
                f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
            )
        return response.json() if response.content else None


@dataclass(frozen=True)
class Scenario:
    """One function's first answer: `prepare` sets the stack up and returns the event."""

    name: str
    source: str  # the artifact's folder
    function: str | None  # its logical id (its environment); None: a yardstick
    prepare: Callable[[Session], dict[str, Any]]
    expect: dict[str, Any]  # what the answer must contain
    handler: str = "app.lambda_handler"
    sign_webhook: bool = False
    # what must hold in the stack once the function answered (where its answer alone does not say)
    settled: Callable[[Session, dict[str, Any]], None] | None = None


def _get(sample: str) -> Callable[[Session], dict[str, Any]]:
    def prepare(session: Session) -> dict[str, Any]:
        return http_event(sample, sub=session.account(sample.split("/", 1)[0]).sub)

    return prepare


def _reader(session: Session) -> dict[str, Any]:
    caller = session.account("yardstick")
    return {"pk": f"ACCOUNT#{caller.sub}", "sk": "PROFILE"}


def _peer(session: Session) -> dict[str, Any]:
    return http_event("profile/get_account", sub=session.account("peer").sub)


def _avatar_upload(session: Session) -> dict[str, Any]:
    return http_event("avatar/request_upload", sub=session.account("avatar").sub)


def _validator(session: Session) -> dict[str, Any]:
    """A 20 MB camera JPEG uploaded where the upload form said (the stack's own delivery of the
    S3 event is stopped: this function's first answer is the one recorded)."""
    caller = session.account("validator")
    form = session.post(caller, "/v1/account/avatar", {"content_type": "image/jpeg"})
    _started(session.stack.poller).stop()
    bucket = _started(session.stack.provisioned).physical["AvatarBucket"]
    body = uploads.camera_jpeg()
    session.stack.client("s3").put_object(Bucket=bucket, Key=form["fields"]["key"], Body=body, ContentType="image/jpeg")
    event: dict[str, Any] = json.loads((ROOT / "events" / "avatar_validator" / "object_created.json").read_text())
    record = event["Records"][0]["s3"]
    record["bucket"]["name"], record["bucket"]["arn"] = bucket, f"arn:aws:s3:::{bucket}"
    record["object"].update(key=form["fields"]["key"], size=len(body))
    return event


def _usage(session: Session) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "usage_recorder" / "usage_recorded.json").read_text())
    event["detail"]["account"] = session.account("usage").sub
    return event


def _with_card(sample: str) -> Callable[[Session], dict[str, Any]]:
    def prepare(session: Session) -> dict[str, Any]:
        caller = session.account("cards")
        session.add_card(caller)
        return http_event(sample, sub=caller.sub)

    return prepare


def _add_card(session: Session) -> dict[str, Any]:
    caller = session.account("add-card")
    return http_event(
        "payment_methods/add_payment_method",
        sub=caller.sub,
        body={"payment_method": "pm_card_visa"},
        headers={"idempotency-key": f"bench-{uuid.uuid4()}"},
    )


def _subscribed(sample: str) -> Callable[[Session], dict[str, Any]]:
    def prepare(session: Session) -> dict[str, Any]:
        caller = session.account("plans")
        session.add_card(caller)
        session.change_plan(caller, "developer")
        session.invoices_mirrored(caller)
        return http_event(sample, sub=caller.sub)

    return prepare


def _upgrade(session: Session) -> dict[str, Any]:
    """Developer to Essential: a larger hold is placed, the subscription moves at once."""
    caller = session.account("upgrade")
    session.add_card(caller)
    session.change_plan(caller, "developer")
    session.invoices_mirrored(caller)
    return http_event(
        "subscriptions/change_plan",
        sub=caller.sub,
        body={"plan": "essential"},
        headers={"idempotency-key": f"bench-{uuid.uuid4()}"},
    )


def _release(session: Session) -> dict[str, Any]:
    """A card's hold, released when its one-time schedule fires."""
    caller = session.account("release")
    added = session.add_card(caller)
    return {"release": {"account": caller.sub, "hold_id": added["payment_method"]["hold"]["id"]}}


def _webhook(session: Session) -> dict[str, Any]:
    """A fresh `invoice.paid` (of an upgrade's prorated invoice), not delivered before."""
    caller = session.account("webhook")
    session.add_card(caller)
    session.change_plan(caller, "developer")
    session.invoices_mirrored(caller)
    session.simulator.webhooks.stop()  # what follows stays undelivered
    session.change_plan(caller, "essential")
    paid = [e for e in session.simulator.events("invoice.paid") if e["data"]["object"]["customer"]]
    payload = json.dumps(paid[-1], indent=2)
    return http_event("stripe_webhook/stripe_event", sub=None, raw_body=payload, headers={"stripe-signature": ""})


def _start_export(session: Session) -> dict[str, Any]:
    caller = session.account("exports")
    return http_event("exports/start_export", sub=caller.sub, headers={"idempotency-key": f"bench-{uuid.uuid4()}"})


def _export_run(session: Session) -> dict[str, Any]:
    """An export (of an account with a card) the worker builds whole: started through the API, its
    queue message taken from the stack's own delivery (the local event poller is stopped)."""
    caller = session.account("export-run")
    session.add_card(caller)
    _started(session.stack.poller).stop()
    headers = caller.headers(**{"idempotency-key": f"export-{uuid.uuid4()}"})
    started = session._ok(session.api.post("/v1/account/exports", headers=headers))
    event: dict[str, Any] = json.loads((ROOT / "events" / "account_exports" / "export_requested.json").read_text())
    event["Records"][0]["body"] = json.dumps({"account": caller.sub, "export": started["id"]})
    return event


def _export_ready(session: Session, event: dict[str, Any]) -> None:
    """The export the worker built is ready (the worker's answer alone does not say)."""
    message = json.loads(event["Records"][0]["body"])
    caller = Caller(message["account"], session.stack.issue_token(message["account"]))
    export = session._ok(session.api.get(f"/v1/account/exports/{message['export']}", headers=caller.headers()))
    if export["status"] != "ready":
        raise RuntimeError(f"the export run left the export {export['status']}: {export}")


def _security_notice(session: Session) -> dict[str, Any]:
    """A change's notice to the account's verified primary address (its first delivery)."""
    caller = session.account("notices")
    event: dict[str, Any] = json.loads((ROOT / "events" / "security_notices" / "security_notice.json").read_text())
    event["detail"].update(account=caller.sub, entry=uuid.uuid4().hex[:20], to=[])
    return event


def _created(status: int) -> dict[str, Any]:
    return {"statusCode": status}


# In recording order: the webhook comes last (it stops the stack's own deliveries).
SCENARIOS = [
    Scenario("baseline", "bench/yardsticks/baseline", None, _reader, {"found": True}),
    Scenario("peer", "bench/yardsticks/peer", None, _peer, _created(200)),
    Scenario("profile", "functions/profile", "ProfileFunction", _get("profile/get_account"), _created(200)),
    Scenario("avatar", "functions/avatar", "AvatarFunction", _avatar_upload, _created(200)),
    Scenario("emails", "functions/emails", "EmailsFunction", _get("emails/list_emails"), _created(200)),
    Scenario("spending", "functions/spending", "SpendingFunction", _get("spending/get_spending"), _created(200)),
    Scenario("usage_recorder", "functions/usage_recorder", "UsageRecorderFunction", _usage, {"counted": True}),
    Scenario(
        "payment_methods",
        "functions/payment_methods",
        "PaymentMethodsFunction",
        _with_card("payment_methods/list_payment_methods"),
        _created(200),
    ),
    Scenario("payment_methods:add", "functions/payment_methods", "PaymentMethodsFunction", _add_card, _created(201)),
    Scenario(
        "subscriptions",
        "functions/subscriptions",
        "SubscriptionsFunction",
        _subscribed("subscriptions/get_subscription"),
        _created(200),
    ),
    Scenario("subscriptions:upgrade", "functions/subscriptions", "SubscriptionsFunction", _upgrade, _created(200)),
    Scenario(
        "invoices", "functions/invoices", "InvoicesFunction", _subscribed("invoices/list_invoices"), _created(200)
    ),
    Scenario("exports", "functions/exports", "ExportsFunction", _start_export, _created(202)),
    Scenario(
        "security_notices",
        "functions/security_notices",
        "SecurityNoticesFunction",
        _security_notice,
        {"outcome": "sent"},
    ),
    Scenario(
        "preauth_release", "functions/preauth_release", "PreauthReleaseFunction", _release, {"result": "released"}
    ),
    Scenario(
        "avatar_validator",
        "functions/avatar_validator",
        "AvatarValidatorFunction",
        _validator,
        {"outcomes": {"published": 1}},
    ),
    Scenario(  # after the validator: both stop the local event poller
        "account_exports",
        "functions/account_exports",
        "AccountExportsFunction",
        _export_run,
        {"batchItemFailures": []},
        settled=_export_ready,
    ),
    Scenario(
        "stripe_webhook",
        "functions/stripe_webhook",
        "StripeWebhookFunction",
        _webhook,
        {"statusCode": 200, "body": {"outcome": "processed"}},
        sign_webhook=True,
    ),
]


def environment(session: Session, scenario: Scenario) -> dict[str, str]:
    """The function's environment as Lambda gives it (the template's variables, the runtime's),
    endpoints as placeholders: `{aws}` and `{stripe}`."""
    # a yardstick gets the environment the template gives every function
    function = session.runtime.functions[scenario.function or "ProfileFunction"]
    values = {name: value for name, value in session.runtime.environment_of(function).items() if value is not None}
    stripe = session.stripe.api_base
    replaced = {}
    for name, value in values.items():
        if name in LOCAL_ONLY:
            continue
        replaced[name] = "{aws}" if value == session.stack.moto_url else "{stripe}" if value == stripe else value
    if scenario.function is None:
        replaced["POWERTOOLS_TRACE_DISABLED"] = "true"  # Tracer's import is the peer's cost, not X-Ray's daemon
    return replaced


def record(session: Session, layout: lambda_layout.Layout, scenario: Scenario) -> Recording:
    recording = Recording(
        scenario=scenario.name,
        source=scenario.source,
        handler=scenario.handler,
        expect=scenario.expect,
        environment=environment(session, scenario),
        event=scenario.prepare(session),
        exchanges=[],
        sign_webhook=WEBHOOK_SECRET if scenario.sign_webhook else None,
    )
    upstreams = [  # stripe-python sends its key as a bearer token; botocore signs with SigV4
        Upstream(
            session.stripe.api_base, lambda _path, headers: headers.get("Authorization", "").startswith("Bearer ")
        ),
        Upstream(session.stack.moto_url, lambda _path, _headers: True),
    ]
    large = {uploads.sha256(make()): name for name, make in LARGE_BODIES.items()}
    with Recorder(upstreams, large) as recorder:
        environment_now = recording.environment_at(recorder.url)
        report = lambda_layout.invoke(layout, scenario.source, scenario.handler, recording.event_now(), environment_now)
    if not recording.answered(report["response"]):
        raise RuntimeError(f"{scenario.name} answered {report['response']!r}\n{report['stderr'][-3000:]}")
    if scenario.settled is not None:
        scenario.settled(session, recording.event)
    recording.exchanges = recorder.exchanges
    recording.save()
    return recording


def main(names: list[str]) -> None:
    chosen = [s for s in SCENARIOS if not names or s.name in names]
    unknown = set(names) - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.WARNING)
    RECORDINGS.mkdir(exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-record-") as scratch:
        layout = lambda_layout.build(Path(scratch) / "artifacts", Path(sys.prefix) / "bench-dependencies")
        print(f"artifacts built ({time.perf_counter() - started:.0f} s)")
        # The stack's own functions print their metrics and logs: not this command's output.
        with (
            contextlib.redirect_stdout(io.StringIO()) as quiet,
            LocalStack(state_dir=Path(scratch) / "state") as stack,
            httpx.Client(base_url=stack.base_url, timeout=60) as api,
        ):
            session = Session(stack, api)
            # The placeholder secret, before anything is delivered: what the recordings hold.
            session.simulator.webhooks.endpoints[0].secret = WEBHOOK_SECRET
            webhook = session.runtime.functions["StripeWebhookFunction"]
            secret_name = webhook.environment["STRIPE_WEBHOOK_SECRET_PARAMETER"]
            stack.client("ssm").put_parameter(
                Name=secret_name, Value=WEBHOOK_SECRET, Type="SecureString", Overwrite=True
            )
            for scenario in chosen:
                recording = record(session, layout, scenario)
                print(
                    f"{scenario.name:<24}{len(recording.exchanges):>3} exchanges "
                    f"({time.perf_counter() - started:.0f} s)",
                    file=sys.__stdout__,
                )
                quiet.truncate(0)


if __name__ == "__main__":
    main(sys.argv[1:])
