"""Creates the template's resources in the embedded AWS (moto), generically by resource type.

Data resources come from `template.yaml` itself: DynamoDB tables (keys, GSIs, TTL), S3 buckets
(with CORS, versioning and notification configuration), SQS queues, SNS topics, EventBridge buses
and rules, EventBridge Scheduler groups and schedules, Secrets Manager secrets, SSM parameters
and SES identities.
Every physical name starts with the stack name, so two stacks in one moto never share a resource.

What moto cannot do is rewired here: S3 notifications and SQS event sources that target a
function (S3 notifications, EventBridge rules, SQS event sources) go through queues that the
stack polls (`AsyncDelivery`, `QueueSource`), and schedules
that target a function are fired by the stack's own clock (see `local.schedules`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.intrinsics import Resolver
from local.template import create_tables, physical_name, resources

log = logging.getLogger("local")

LAMBDA_ARN = re.compile(r"^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:(?P<name>[\w-]+)(?::[\w$-]+)?$")
SCHEDULE_EVENT_TYPES = ("Schedule", "ScheduleV2")
HANDLED_EVENT_TYPES = ("HttpApi", "S3", "SQS", "EventBridgeRule", *SCHEDULE_EVENT_TYPES)
# Internal queues that carry asynchronous events to functions: a failed delivery is retried after this.
RETRY_SECONDS = 2


@dataclass(frozen=True)
class AsyncDelivery:
    """Events that S3 (`source="s3"`) or an EventBridge rule (`source="events"`) sends to a
    function asynchronously, carried by an internal queue."""

    queue_url: str
    source: str
    origin: str  # the bucket, or the rule
    function: str
    retries: int = 2  # the function's EventInvokeConfig MaximumRetryAttempts (Lambda's default 2)
    on_failure: str | None = None  # the queue (URL) of its OnFailure destination, if it names one


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source mapping: messages of the queue go to the function in batches of up
    to `batch_size` (gathered ten at a time, SQS's most per ReceiveMessage, as Lambda's poller
    gathers a batch larger than ten within its batching window)."""

    queue_url: str
    queue_arn: str
    function: str
    batch_size: int = 10
    report_batch_item_failures: bool = False


@dataclass(frozen=True)
class TemplateSchedule:
    """A schedule the template declares, as created in moto's EventBridge Scheduler."""

    group: str
    name: str
    function: str
    aliases: tuple[str, ...]  # names `make run-schedule` also accepts (event name, resource id)
    eventbridge_rule: bool = False  # a SAM `Schedule` event: delivers a "Scheduled Event" payload


@dataclass
class Provisioned:
    """What the stack created, and how to reach it."""

    stack: str
    resolver: Resolver
    physical: dict[str, str] = field(default_factory=dict)  # logical id → physical name (created resources)
    kinds: dict[str, str] = field(default_factory=dict)  # logical id → resource type
    function_names: dict[str, str] = field(default_factory=dict)  # logical id → function name
    deliveries: list[AsyncDelivery] = field(default_factory=list)
    queue_sources: list[QueueSource] = field(default_factory=list)
    schedules: list[TemplateSchedule] = field(default_factory=list)
    not_emulated: list[str] = field(default_factory=list)

    def function_for_arn(self, arn: str) -> str | None:
        """The logical id of the function an ARN names, if it is one of this stack's."""
        match = LAMBDA_ARN.match(arn or "")
        if not match:
            return None
        names = {name: logical for logical, name in self.function_names.items()}
        return names.get(match["name"])

    def queue_for_arn(self, arn: str) -> str | None:
        """The URL of the queue an ARN names, if it is one of this stack's."""
        for logical, kind in self.kinds.items():
            if kind == "AWS::SQS::Queue" and self.resolver.attributes.get((logical, "Arn")) == arn:
                return str(self.resolver.refs[logical])
        return None

    def describe(self) -> dict[str, dict[str, str]]:
        listing: dict[str, dict[str, str]] = {}
        for logical, name in sorted(self.physical.items()):
            listing.setdefault(self.kinds[logical], {})[logical] = name
        return listing


def _bucket_name(stack: str, logical: str) -> str:
    name = re.sub(r"[^a-z0-9.-]", "-", physical_name(stack, logical).lower())
    return name[:63].strip("-.")


def _function_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


class Provisioner:
    """Plans names and attributes for every resource, then creates the data resources in moto."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        stack: str,
        resolver: Resolver,
        client: Callable[[str], Any],
        region: str,
        account: str,
        moto_url: str,
        secret_values: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.stack = stack
        self.resolver = resolver
        self.client = client
        self.region = region
        self.account = account
        self.moto_url = moto_url
        self.secret_values = dict(secret_values or {})
        self.result = Provisioned(stack, resolver)

    # ------------------------------------------------------------------ naming
    def _name(self, logical: str, props: Mapping[str, Any], name_property: str | None) -> str:
        if name_property and name_property in props:
            return str(self.resolver(props[name_property]))
        return physical_name(self.stack, logical)

    def plan(self, api_id: str, api_endpoint: str) -> None:
        """`Ref` and `Fn::GetAtt` values of every resource, before anything is created."""
        self.api_id, self.api_endpoint = api_id, api_endpoint
        planners: dict[str, Callable[[str, Mapping[str, Any]], tuple[Any, dict[str, Any]]]] = {
            "AWS::DynamoDB::Table": self._plan_table,
            "AWS::S3::Bucket": self._plan_bucket,
            "AWS::SQS::Queue": self._plan_queue,
            "AWS::SNS::Topic": self._plan_topic,
            "AWS::Serverless::Function": self._plan_function,
            "AWS::Lambda::Function": self._plan_function,
            "AWS::IAM::Role": self._plan_role,
            "AWS::Serverless::HttpApi": self._plan_api,
            "AWS::ApiGatewayV2::Api": self._plan_api,
            "AWS::Scheduler::ScheduleGroup": self._plan_schedule_group,
            "AWS::Scheduler::Schedule": self._plan_schedule,
            "AWS::SSM::Parameter": lambda logical, props: (self._name(logical, props, "Name"), {}),
            "AWS::SES::EmailIdentity": lambda _logical, props: (str(self.resolver(props["EmailIdentity"])), {}),
            "AWS::Logs::LogGroup": self._plan_log_group,
            "AWS::Serverless::LayerVersion": self._plan_layer,
            "AWS::Lambda::LayerVersion": self._plan_layer,
            "AWS::CloudFront::Distribution": self._plan_distribution,
            "AWS::Events::EventBus": self._plan_event_bus,
            "AWS::Events::Rule": self._plan_rule,
        }
        for logical, resource in self.template.get("Resources", {}).items():
            kind, props = resource["Type"], resource.get("Properties") or {}
            self.result.kinds[logical] = kind
            ref, attributes = planners.get(kind, self._plan_other)(logical, props)
            self.resolver.refs.setdefault(logical, ref)
            for attribute, value in attributes.items():
                self.resolver.attributes.setdefault((logical, attribute), value)

    def _arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{self.account}:{resource}"

    def _plan_table(self, logical: str, _props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = physical_name(self.stack, logical)  # as create_tables names it
        arn = self._arn("dynamodb", f"table/{name}")
        return name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"}

    def _plan_bucket(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = str(self.resolver(props["BucketName"])) if "BucketName" in props else _bucket_name(self.stack, logical)
        return name, {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
        }

    def _plan_queue(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(logical, props, "QueueName")
        if props.get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        url = f"{self.moto_url}/{self.account}/{name}"  # as moto names it; replaced by the real one on creation
        return url, {"QueueUrl": url, "Arn": self._arn("sqs", name), "QueueName": name}

    def _plan_topic(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(logical, props, "TopicName")
        arn = self._arn("sns", name)
        return arn, {"TopicArn": arn, "TopicName": name}

    def _plan_function(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(logical, props, "FunctionName")
        self.result.function_names[logical] = name
        role = f"{logical}Role"  # SAM's implicit execution role
        self.resolver.refs.setdefault(role, f"{self.stack}-{role}")
        self.resolver.attributes.setdefault(
            (role, "Arn"), self._arn("iam", f"role/{self.stack}-{role}", regional=False)
        )
        return name, {"Arn": _function_arn(self.region, self.account, name)}

    def _plan_role(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(logical, props, "RoleName")
        return name, {"Arn": self._arn("iam", f"role/{name}", regional=False), "RoleId": f"AROA{logical.upper()[:17]}"}

    def _plan_api(self, _logical: str, _props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        return self.api_id, {"ApiEndpoint": self.api_endpoint, "ApiId": self.api_id}

    def _plan_schedule_group(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(logical, props, "Name")
        return name, {"Arn": self._arn("scheduler", f"schedule-group/{name}")}

    def _plan_schedule(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(logical, props, "Name")
        group = str(self.resolver(props.get("GroupName", "default")))
        return name, {"Arn": self._arn("scheduler", f"schedule/{group}/{name}")}

    def _plan_log_group(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(logical, props, "LogGroupName")
        return name, {"Arn": self._arn("logs", f"log-group:{name}:*")}

    def _plan_layer(self, logical: str, _props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        return self._arn("lambda", f"layer:{self.stack}-{logical}:1"), {}

    def _plan_distribution(self, logical: str, _props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Served by the local gateway (see `local.cdn`), over plain HTTP.
        distribution_id = "E" + hashlib.sha256(f"{self.stack}/{logical}".encode()).hexdigest()[:13].upper()
        domain = f"{self.api_endpoint.removeprefix('http://')}/_local/cdn/{logical}"
        return distribution_id, {"Id": distribution_id, "DomainName": domain}

    def _plan_event_bus(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(logical, props, "Name")
        return name, {"Arn": self._arn("events", f"event-bus/{name}"), "Name": name}

    def _plan_rule(self, logical: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = self._name(logical, props, "Name")
        bus = str(self.resolver(props.get("EventBusName", "default")))
        path = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
        return name, {"Arn": self._arn("events", path)}

    def _plan_other(self, logical: str, _props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Not created locally, but referable: a name, and an ARN of the usual shape.
        name = physical_name(self.stack, logical)
        service = self.result.kinds[logical].split("::")[1].lower()
        return name, {"Arn": self._arn(service, f"{logical.lower()}/{name}")}

    # ------------------------------------------------------------------ creation
    def provision(self, api_id: str, api_endpoint: str) -> Provisioned:
        self.plan(api_id, api_endpoint)
        self._create_topics()
        self._create_queues()
        self._create_tables()
        self._create_buckets()
        self._create_schedule_groups()
        self._create_secrets()
        self._create_parameters()
        self._verify_email_identities()
        self._create_event_buses()
        self._create_schedules()
        self._connect_event_rules()
        self._connect_notifications()
        self._connect_queue_sources()
        return self.result

    def _each(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (logical, self.resolver(resource.get("Properties") or {}))
            for logical, resource in resources(dict(self.template), kind).items()
            if self.resolver.included(resource)
        ]

    def _created(self, logical: str) -> None:
        self.result.physical[logical] = str(self.resolver.refs[logical])

    def _create_topics(self) -> None:
        sns = self.client("sns")
        for logical, props in self._each("AWS::SNS::Topic"):
            attributes = {"FifoTopic": "true"} if props.get("FifoTopic") else {}
            sns.create_topic(Name=self.resolver.attributes[(logical, "TopicName")], Attributes=attributes)
            self._created(logical)

    def _create_queues(self) -> None:
        sqs = self.client("sqs")
        queue_attributes = (
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
            "FifoQueue",
            "ContentBasedDeduplication",
        )
        queues = self._each("AWS::SQS::Queue")
        # Dead-letter queues first: a redrive policy names an existing queue.
        for logical, props in sorted(queues, key=lambda item: "RedrivePolicy" in item[1]):
            attributes = {
                key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                for key in queue_attributes
                if key in props
            }
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            name = self.resolver.attributes[(logical, "QueueName")]
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            self.resolver.refs[logical] = self.resolver.attributes[(logical, "QueueUrl")] = url
            self.result.physical[logical] = name

    def _create_tables(self) -> None:
        created = create_tables(self.client("dynamodb"), dict(self.template), self.stack)
        for logical in created:
            self._created(logical)

    def _create_buckets(self) -> None:
        s3 = self.client("s3")
        for logical, props in self._each("AWS::S3::Bucket"):
            name = self.resolver.refs[logical]
            location = (
                {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
            )
            s3.create_bucket(Bucket=name, **location)
            if versioning := props.get("VersioningConfiguration"):
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
            if cors := props.get("CorsConfiguration"):
                rules = [_cors_rule(rule) for rule in cors.get("CorsRules", [])]
                s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
            self._created(logical)

    def _create_schedule_groups(self) -> None:
        scheduler = self.client("scheduler")
        for logical, _props in self._each("AWS::Scheduler::ScheduleGroup"):
            scheduler.create_schedule_group(Name=self.resolver.refs[logical])
            self._created(logical)

    def _create_secrets(self) -> None:
        secretsmanager = self.client("secretsmanager")
        for logical, props in self._each("AWS::SecretsManager::Secret"):
            name = self._name(logical, props, "Name")
            value = self.secret_values.get(logical) or props.get("SecretString")
            if value is None:
                value = _generated_secret(props.get("GenerateSecretString") or {})
            arn = secretsmanager.create_secret(Name=name, SecretString=value)["ARN"]
            self.resolver.refs[logical] = self.resolver.attributes[(logical, "Id")] = arn
            self.result.physical[logical] = name

    def _create_parameters(self) -> None:
        ssm = self.client("ssm")
        for logical, props in self._each("AWS::SSM::Parameter"):
            value = self.secret_values.get(logical, props["Value"])
            ssm.put_parameter(Name=self.resolver.refs[logical], Value=str(value), Type=props.get("Type", "String"))
            self.resolver.attributes[(logical, "Value")] = value
            self.resolver.attributes[(logical, "Type")] = props.get("Type", "String")
            self._created(logical)

    def _verify_email_identities(self) -> None:
        """SES identities of the template, and the domain of any email-like parameter (a sender
        address is usually a parameter, verified out of band in a real account)."""
        sesv2 = self.client("sesv2")
        identities = set()
        for logical, props in self._each("AWS::SES::EmailIdentity"):
            identities.add(str(props["EmailIdentity"]))
            self._created(logical)
        for value in self.resolver.parameters.values():
            for item in value if isinstance(value, list) else [value]:
                if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(item)):
                    identities.add(str(item).split("@", 1)[1])
        existing = {i["IdentityName"] for i in sesv2.list_email_identities().get("EmailIdentities", [])}
        for identity in sorted(identities - existing):
            sesv2.create_email_identity(EmailIdentity=identity)

    def _create_event_buses(self) -> None:
        events = self.client("events")
        for logical, _props in self._each("AWS::Events::EventBus"):
            events.create_event_bus(Name=self.resolver.refs[logical])
            self._created(logical)

    def _connect_event_rules(self) -> None:
        """EventBridge rules of the template and of functions' `EventBridgeRule` events; a
        function target becomes an internal queue that the stack polls."""
        events = self.client("events")
        for logical, props in self._each("AWS::Events::Rule"):
            if "EventPattern" not in props:
                self.result.not_emulated.append(f"{logical} (a scheduled EventBridge rule)")
                continue
            name, bus = self.resolver.refs[logical], str(props.get("EventBusName", "default"))
            events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]))
            targets = []
            for target in props.get("Targets", []):
                function = self.result.function_for_arn(target["Arn"])
                arn = self._delivery_queue("events", name, function) if function else target["Arn"]
                targets.append({"Id": target["Id"], "Arn": arn, **{k: target[k] for k in ("Input",) if k in target}})
            if targets:
                events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
            self._created(logical)
        for function, event_name, event in self._function_events("EventBridgeRule"):
            props = event["Properties"]
            name = str(props.get("RuleName") or f"{self.stack}-{function}-{event_name}")[:64]
            bus = str(props.get("EventBusName", "default"))
            events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(props["Pattern"]))
            target = {"Id": "local", "Arn": self._delivery_queue("events", name, function)}
            if "Input" in props:
                target["Input"] = props["Input"]
            events.put_targets(Rule=name, EventBusName=bus, Targets=[target])

    # ------------------------------------------------------------------ schedules
    def _create_schedules(self) -> None:
        scheduler = self.client("scheduler")
        for logical, props in self._each("AWS::Scheduler::Schedule"):
            name, group = self.resolver.refs[logical], str(props.get("GroupName", "default"))
            target = dict(props["Target"])
            scheduler.create_schedule(
                Name=name,
                GroupName=group,
                ScheduleExpression=props["ScheduleExpression"],
                ScheduleExpressionTimezone=props.get("ScheduleExpressionTimezone", "UTC"),
                FlexibleTimeWindow=props.get("FlexibleTimeWindow", {"Mode": "OFF"}),
                State=props.get("State", "ENABLED"),
                Target={key: target[key] for key in ("Arn", "RoleArn", "Input") if key in target},
            )
            self._created(logical)
            function = self.result.function_for_arn(target["Arn"])
            if function:
                self.result.schedules.append(TemplateSchedule(group, name, function, (logical,)))
        for function, event_name, event in self._function_events(*SCHEDULE_EVENT_TYPES):
            self._create_event_schedule(scheduler, function, event_name, event)

    def _create_event_schedule(self, scheduler: Any, function: str, event_name: str, event: dict[str, Any]) -> None:
        props = event["Properties"]
        rule = event["Type"] == "Schedule"
        name = str(props.get("Name") or f"{self.stack}-{function}-{event_name}")[:64]
        group = str(props.get("GroupName", "default"))
        enabled = props.get("Enabled", True) and props.get("State", "ENABLED") == "ENABLED"
        target = {
            "Arn": self.resolver.attributes[(function, "Arn")],
            "RoleArn": props.get("RoleArn")
            or self._arn("iam", f"role/{self.stack}-{function}{event_name}Role", regional=False),
        }
        if "Input" in props:
            target["Input"] = props["Input"]
        scheduler.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression=props["Schedule"] if rule else props["ScheduleExpression"],
            ScheduleExpressionTimezone=props.get("ScheduleExpressionTimezone", "UTC"),
            FlexibleTimeWindow=props.get("FlexibleTimeWindow", {"Mode": "OFF"}),
            State="ENABLED" if enabled else "DISABLED",
            Target=target,
        )
        self.result.schedules.append(TemplateSchedule(group, name, function, (event_name,), eventbridge_rule=rule))

    def _function_events(self, *types: str) -> list[tuple[str, str, dict[str, Any]]]:
        found = []
        for function, resource in resources(dict(self.template), "AWS::Serverless::Function").items():
            if not self.resolver.included(resource):
                continue
            for event_name, event in (resource["Properties"].get("Events") or {}).items():
                if event["Type"] in types:
                    found.append((function, event_name, self.resolver(event)))
        return found

    # ------------------------------------------------------------------ event sources
    def _connect_notifications(self) -> None:
        """Each bucket's notification configuration, with function targets replaced by internal
        queues that the stack polls (moto cannot invoke a function without Docker)."""
        per_bucket: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for logical, props in self._each("AWS::S3::Bucket"):
            config = props.get("NotificationConfiguration") or {}
            bucket = per_bucket.setdefault(logical, {"QueueConfigurations": [], "TopicConfigurations": []})
            for entry in config.get("QueueConfigurations", []):
                bucket["QueueConfigurations"].append(_notification(entry, "QueueArn", entry["Queue"]))
            for entry in config.get("TopicConfigurations", []):
                bucket["TopicConfigurations"].append(_notification(entry, "TopicArn", entry["Topic"]))
            for entry in config.get("LambdaConfigurations", []):
                function = self.result.function_for_arn(entry["Function"])
                if function is None:
                    log.warning("bucket %s notifies %s: not a function of the stack", logical, entry["Function"])
                    continue
                arn = self._delivery_queue("s3", self.resolver.refs[logical], function)
                bucket["QueueConfigurations"].append(_notification(entry, "QueueArn", arn))
        for function, _event_name, event in self._function_events("S3"):
            props = event["Properties"]
            bucket_logical = next(
                (
                    logical
                    for logical, name in self.resolver.refs.items()
                    if name == props["Bucket"] and self.result.kinds.get(logical) == "AWS::S3::Bucket"
                ),
                None,
            )
            if bucket_logical is None:
                log.warning("%s: S3 event on a bucket outside the template (%s)", function, props["Bucket"])
                continue
            arn = self._delivery_queue("s3", self.resolver.refs[bucket_logical], function)
            events = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
            entry = {"Event": events, "Filter": props.get("Filter")}
            per_bucket.setdefault(bucket_logical, {"QueueConfigurations": [], "TopicConfigurations": []})
            per_bucket[bucket_logical]["QueueConfigurations"].append(_notification(entry, "QueueArn", arn))
        s3 = self.client("s3")
        for logical, entries in per_bucket.items():
            config = {key: value for key, value in entries.items() if value}
            if config:
                s3.put_bucket_notification_configuration(
                    Bucket=self.resolver.refs[logical], NotificationConfiguration=config
                )

    def _delivery_queue(self, source: str, origin: str, function: str) -> str:
        """An internal queue for `source` events of `origin` to `function`; its ARN."""
        name = re.sub(r"[^\w-]", "-", f"{self.stack}-{source}-{origin}-{function}")[:80]
        attributes = {"VisibilityTimeout": str(RETRY_SECONDS)}
        url = self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        config = self.template["Resources"][function]["Properties"].get("EventInvokeConfig") or {}
        destination = config.get("DestinationConfig", {}).get("OnFailure", {})
        on_failure = None
        if destination.get("Type", "SQS") == "SQS" and "Destination" in destination:
            on_failure = self.result.queue_for_arn(str(self.resolver(destination["Destination"])))
        retries = int(config.get("MaximumRetryAttempts", 2))
        self.result.deliveries.append(AsyncDelivery(url, source, origin, function, retries, on_failure))
        return self._arn("sqs", name)

    def _connect_queue_sources(self) -> None:
        arns = {
            self.resolver.attributes[(logical, "Arn")]: self.resolver.refs[logical]
            for logical, kind in self.result.kinds.items()
            if kind == "AWS::SQS::Queue" and logical in self.result.physical
        }
        for function, event_name, event in self._function_events("SQS"):
            props = event["Properties"]
            if props["Queue"] not in arns:
                log.warning("%s.%s: SQS queue %s is not in the template", function, event_name, props["Queue"])
                continue
            self.result.queue_sources.append(
                QueueSource(
                    queue_url=arns[props["Queue"]],
                    queue_arn=props["Queue"],
                    function=function,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                )
            )
        for function, resource in resources(dict(self.template), "AWS::Serverless::Function").items():
            for event_name, event in (resource["Properties"].get("Events") or {}).items():
                if event["Type"] not in HANDLED_EVENT_TYPES:
                    self.result.not_emulated.append(f"{function}.{event_name} ({event['Type']} event)")


def _notification(entry: Mapping[str, Any], target_key: str, target_arn: str) -> dict[str, Any]:
    """An S3 API notification entry from a CloudFormation one."""
    events = entry["Event"] if isinstance(entry["Event"], list) else [entry["Event"]]
    config: dict[str, Any] = {target_key: target_arn, "Events": events}
    rules = ((entry.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    if rules:
        config["Filter"] = {"Key": {"FilterRules": [{"Name": rule["Name"], "Value": rule["Value"]} for rule in rules]}}
    return config


def _cors_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    names = {
        "AllowedHeaders": "AllowedHeaders",
        "AllowedMethods": "AllowedMethods",
        "AllowedOrigins": "AllowedOrigins",
        "ExposedHeaders": "ExposeHeaders",
        "MaxAge": "MaxAgeSeconds",
        "Id": "ID",
    }
    return {api: rule[cfn] for cfn, api in names.items() if cfn in rule}


def _generated_secret(spec: Mapping[str, Any]) -> str:
    """A local value for a secret the template asks Secrets Manager to generate."""
    excluded = set(spec.get("ExcludeCharacters", ""))
    if spec.get("ExcludePunctuation"):
        excluded |= set(string.punctuation)
    alphabet = [c for c in string.ascii_letters + string.digits + "!#$%&*+-=?^_~" if c not in excluded]
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if "SecretStringTemplate" in spec and "GenerateStringKey" in spec:
        return json.dumps({**json.loads(spec["SecretStringTemplate"]), spec["GenerateStringKey"]: value})
    return value
