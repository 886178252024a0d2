"""DynamoDB access for the account's subscription (the copy of Stripe's) and its plan-change lock.

Every write of the copy is conditioned on the account being active with this Stripe customer (a
deleted account, or one re-created since, gets nothing back) and on its `synced_at` (when the
state was read from Stripe) not being older than the stored one: an older read never overwrites
a newer. A different subscription replaces the stored one only if it was created later. The
profile's `plan` is the plan in effect, written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping

from account_billing.accounts.records import AccountStatus
from account_billing.billing.plans import FREE_PLAN
from account_billing.billing.subscriptions.records import Subscription, subscription_key
from account_billing.core import keys
from account_billing.core.errors import ConcurrentUpdate
from account_billing.core.table import ConditionFailed, Table, marshal, values


def change_lock_key(sub: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": "PLAN_CHANGE"}


class SubscriptionStore:
    def __init__(self, table: Table, price_ids: Mapping[str, str]) -> None:
        self.table = table
        self.price_ids = price_ids

    def get(self, sub: str) -> Subscription | None:
        item = self.table.get(subscription_key(sub), consistent=True)
        return Subscription.from_item(item) if item else None

    def save(self, record: Subscription) -> bool:
        """Store the subscription and the plan in effect; False if the write did not apply
        (an older read, an older subscription, or no such active account)."""
        return self.table.transact_unless(
            [
                {
                    "Put": {
                        "Item": marshal(record.to_item()),
                        "ConditionExpression": "attribute_not_exists(PK) OR (synced_at <= :synced AND "
                        "(subscription_id = :id OR sub_created <= :created))",
                        "ExpressionAttributeValues": values(
                            synced=record.synced_at, id=record.subscription_id, created=record.sub_created
                        ),
                    }
                },
                {
                    "Update": {
                        "Key": marshal(keys.profile_key(record.sub)),
                        "UpdateExpression": "SET #plan = :plan",
                        "ConditionExpression": "#status = :active AND stripe_customer_id = :customer",
                        "ExpressionAttributeNames": {"#plan": "plan", "#status": "status"},
                        "ExpressionAttributeValues": values(
                            plan=record.plan_in_effect, active=AccountStatus.ACTIVE, customer=record.customer_id
                        ),
                    }
                },
            ],
            0,
            1,
        )

    def forget_customer(self, sub: str, customer_id: str) -> bool:
        """The Stripe customer was deleted (outside this service): the account is back on the
        free plan, with no customer; its next card creates a new one."""
        try:
            self.table.update(
                keys.profile_key(sub),
                UpdateExpression="SET #plan = :free REMOVE stripe_customer_id, default_payment_method",
                ConditionExpression="#status = :active AND stripe_customer_id = :customer",
                ExpressionAttributeNames={"#plan": "plan", "#status": "status"},
                ExpressionAttributeValues=values(free=FREE_PLAN.key, active=AccountStatus.ACTIVE, customer=customer_id),
            )
        except ConditionFailed:
            return False
        self.table.delete(subscription_key(sub))
        return True

    # ------------------------------------------------------------------ one change at a time
    def lock_changes(self, sub: str, now: int, lease_seconds: int) -> None:
        """Take the account's plan-change lock (`ConcurrentUpdate` while another change holds
        it); a crashed change's lock is taken again once its lease ran out."""
        try:
            self.table.put(
                {**change_lock_key(sub), "entity": "plan-change", "lease_until": now + lease_seconds},
                ConditionExpression="attribute_not_exists(PK) OR lease_until < :now",
                ExpressionAttributeValues=values(now=now),
            )
        except ConditionFailed as exc:
            raise ConcurrentUpdate("Another plan change is in progress; retry it.") from exc

    def unlock_changes(self, sub: str) -> None:
        self.table.delete(change_lock_key(sub))
