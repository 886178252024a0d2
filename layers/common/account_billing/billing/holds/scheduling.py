"""One-time EventBridge Scheduler schedules that release holds at their release time.

Each hold gets an `at(...)` schedule in the template's schedule group, deleted by Scheduler once
it has run (ActionAfterCompletion=DELETE), that puts the hold's release on the queue of
background Stripe work (`billing.tasks`), with a retry policy and a dead-letter queue: releases
are made at the background share of Stripe's rate, however many fall due at once. A schedule
that could not be created is not an error for the caller: the hourly sweeper queues every due
hold that no schedule did.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from account_billing.billing.settings import BillingSettings
from account_billing.core.settings import MissingSetting

if TYPE_CHECKING:
    from types_boto3_scheduler import EventBridgeSchedulerClient
    from types_boto3_scheduler.type_defs import RetryPolicyTypeDef, TargetTypeDef
from account_billing.core.observability import logger, metrics

# Scheduler retries a failed invocation for up to six hours, then sends it to the queue.
RETRY_POLICY: RetryPolicyTypeDef = {"MaximumEventAgeInSeconds": 6 * 3600, "MaximumRetryAttempts": 50}


def schedule_name(hold_id: str) -> str:
    return f"release-{hold_id}"[:64]


def release_event(sub: str, hold_id: str) -> dict[str, Any]:
    """What a hold's schedule puts on the queue: the task that releases it (`billing.tasks`)."""
    return {"release": {"account": sub, "hold_id": hold_id}}


class ReleaseScheduler:
    def __init__(
        self, client: EventBridgeSchedulerClient, *, group: str, target_arn: str, role_arn: str, dead_letter_arn: str
    ) -> None:
        self.client = client
        self.group = group
        self.target_arn = target_arn
        self.role_arn = role_arn
        self.dead_letter_arn = dead_letter_arn

    @classmethod
    def from_settings(cls, client: EventBridgeSchedulerClient, settings: BillingSettings) -> ReleaseScheduler:
        required = {
            "RELEASE_SCHEDULE_GROUP": settings.release_schedule_group,
            "RELEASE_QUEUE_ARN": settings.release_queue_arn,
            "RELEASE_SCHEDULER_ROLE_ARN": settings.release_scheduler_role_arn,
            "RELEASE_DEAD_LETTER_QUEUE_ARN": settings.release_dead_letter_queue_arn,
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise MissingSetting(*missing)
        return cls(
            client,
            group=str(settings.release_schedule_group),
            target_arn=str(settings.release_queue_arn),
            role_arn=str(settings.release_scheduler_role_arn),
            dead_letter_arn=str(settings.release_dead_letter_queue_arn),
        )

    def schedule(self, sub: str, hold_id: str, release_at: datetime) -> bool:
        """Schedule the hold's release; True if a schedule exists now (created or already there)."""
        target: TargetTypeDef = {
            "Arn": self.target_arn,
            "RoleArn": self.role_arn,
            "Input": json.dumps(release_event(sub, hold_id)),
            "RetryPolicy": RETRY_POLICY,
            "DeadLetterConfig": {"Arn": self.dead_letter_arn},
        }
        try:
            self.client.create_schedule(
                Name=schedule_name(hold_id),
                GroupName=self.group,
                Description="Release a card pre-authorization hold",
                ScheduleExpression=f"at({release_at.strftime('%Y-%m-%dT%H:%M:%S')})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                ClientToken=hold_id[:64],
                Target=target,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConflictException":
                return True
            logger.warning("Release schedule not created; the sweeper will release the hold", exc_info=True)
            metrics.add_metric(name="ReleaseScheduleFailed", unit="Count", value=1)
            return False
        except BotoCoreError:
            logger.warning("Release schedule not created; the sweeper will release the hold", exc_info=True)
            metrics.add_metric(name="ReleaseScheduleFailed", unit="Count", value=1)
            return False
        return True
