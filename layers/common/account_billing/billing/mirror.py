"""The copy of Stripe's subscription and invoices kept in DynamoDB (DESIGN §4), written from
what Stripe answers right now (the API's answer, or a webhook event's object fetched again):

- `ACCOUNT#<sub>` / `SUBSCRIPTION`: the account's subscription, its plan, status, period and
  scheduled change; the profile's `plan` is the plan in effect, written in the same transaction.
- `ACCOUNT#<sub>` / `INVOICE#<created>#<id>`: an invoice (newest first by its sort key), and
  `INVOICE_ID#<id>` pointing at it (found by id with two GetItems, never a Scan).

Every write is conditioned on the account being active with this Stripe customer (a deleted
account, or one re-created since, gets nothing back) and on its `synced_at` (when the state was
read from Stripe) not being older than the stored one: an older read never overwrites a newer.
A different subscription replaces the stored one only if it was created later.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..data import keys
from ..data.accounts import ACTIVE
from ..data.table import ConditionFailed, Table, TransactionCancelled, marshal, values
from .plans import FREE_PLAN, PLANS

SUBSCRIPTION = "SUBSCRIPTION"
INVOICE_PREFIX = "INVOICE#"
LIVE = ("active", "past_due", "trialing", "unpaid")


def read_time() -> int:
    """When a state was read from Stripe, in microseconds (orders two reads of one object)."""
    return time.time_ns() // 1000


def subscription_key(sub: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": SUBSCRIPTION}


def invoice_sort_key(created: int, invoice_id: str) -> str:
    return f"{INVOICE_PREFIX}{created:010d}#{invoice_id}"


def invoice_pointer_key(sub: str, invoice_id: str) -> keys.Key:
    return {"PK": keys.account_pk(sub), "SK": f"INVOICE_ID#{invoice_id}"}


def plan_for_price(price_id: str | None, price_ids: Mapping[str, str]) -> str:
    return next((plan for plan, price in price_ids.items() if price == price_id), FREE_PLAN.key)


def _account_check(sub: str, customer_id: str) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "Key": marshal(keys.profile_key(sub)),
            "ConditionExpression": "#status = :active AND stripe_customer_id = :customer",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values(active=ACTIVE, customer=customer_id),
        }
    }


def subscription_record(
    sub: str,
    stripe_sub: Mapping[str, Any],
    schedule: Mapping[str, Any] | None,
    price_ids: Mapping[str, str],
    synced_at: int,
) -> dict[str, Any]:
    item = stripe_sub["items"]["data"][0]
    price = item["price"]["id"] if isinstance(item["price"], Mapping) else item["price"]
    start, end = item.get("current_period_start"), item.get("current_period_end")
    scheduled_plan = None
    if schedule is not None and schedule.get("status") in ("active", "not_started"):
        for phase in schedule.get("phases") or []:
            phase_price = phase["items"][0]["price"]
            phase_price = phase_price["id"] if isinstance(phase_price, Mapping) else phase_price
            if end is not None and phase["start_date"] >= end and phase_price != price:
                scheduled_plan = plan_for_price(phase_price, price_ids)
                break
    return {
        **subscription_key(sub),
        "entity": "subscription",
        "subscription_id": stripe_sub["id"],
        "customer_id": stripe_sub["customer"],
        "item_id": item["id"],
        "price_id": price,
        "plan": plan_for_price(price, price_ids),
        "status": stripe_sub["status"],
        "period_start": start,
        "period_end": end,
        "cancel_at_period_end": bool(stripe_sub.get("cancel_at_period_end")),
        "schedule_id": stripe_sub.get("schedule"),
        "scheduled_plan": scheduled_plan,
        "sub_created": stripe_sub["created"],
        "synced_at": synced_at,
    }


def plan_in_effect(record: Mapping[str, Any]) -> str:
    return str(record["plan"]) if record["status"] in LIVE and record["plan"] in PLANS else FREE_PLAN.key


class Mirror:
    def __init__(self, table: Table, price_ids: Mapping[str, str]) -> None:
        self.table = table
        self.price_ids = price_ids

    def subscription(self, sub: str) -> dict[str, Any] | None:
        return self.table.get(subscription_key(sub), consistent=True)

    def save_subscription(
        self,
        sub: str,
        stripe_sub: Mapping[str, Any],
        schedule: Mapping[str, Any] | None = None,
        synced_at: int | None = None,
    ) -> dict[str, Any] | None:
        """Store the subscription and the plan in effect; None if the write did not apply
        (an older read, an older subscription, or no such active account)."""
        record = subscription_record(sub, stripe_sub, schedule, self.price_ids, synced_at or read_time())
        actions = [
            {
                "Put": {
                    "Item": marshal(record),
                    "ConditionExpression": "attribute_not_exists(PK) OR (synced_at <= :synced AND "
                    "(subscription_id = :id OR sub_created <= :created))",
                    "ExpressionAttributeValues": values(
                        synced=record["synced_at"], id=record["subscription_id"], created=record["sub_created"]
                    ),
                }
            },
            {
                "Update": {
                    "Key": marshal(keys.profile_key(sub)),
                    "UpdateExpression": "SET #plan = :plan",
                    "ConditionExpression": "#status = :active AND stripe_customer_id = :customer",
                    "ExpressionAttributeNames": {"#plan": "plan", "#status": "status"},
                    "ExpressionAttributeValues": values(
                        plan=plan_in_effect(record), active=ACTIVE, customer=record["customer_id"]
                    ),
                }
            },
        ]
        try:
            self.table.transact(actions)
        except TransactionCancelled as exc:
            if exc.failed(0) or exc.failed(1):
                return None
            raise
        return record

    def forget_customer(self, sub: str, customer_id: str) -> bool:
        """The Stripe customer was deleted (outside this service): the account is back on the
        free plan, with no customer; its next card creates a new one."""
        try:
            self.table.update(
                keys.profile_key(sub),
                UpdateExpression="SET #plan = :free REMOVE stripe_customer_id, default_payment_method",
                ConditionExpression="#status = :active AND stripe_customer_id = :customer",
                ExpressionAttributeNames={"#plan": "plan", "#status": "status"},
                ExpressionAttributeValues=values(free=FREE_PLAN.key, active=ACTIVE, customer=customer_id),
            )
        except ConditionFailed:
            return False
        self.table.delete(subscription_key(sub))
        return True

    def save_invoice(self, sub: str, invoice: Mapping[str, Any], synced_at: int | None = None) -> bool:
        """Store an invoice as Stripe has it now; False if it did not apply."""
        sort_key = invoice_sort_key(int(invoice["created"]), invoice["id"])
        synced = synced_at or read_time()
        record = {
            "PK": keys.account_pk(sub),
            "SK": sort_key,
            "entity": "invoice",
            "invoice_id": invoice["id"],
            "number": invoice.get("number"),
            "status": invoice["status"],
            "amount_due": invoice["amount_due"],
            "amount_paid": invoice["amount_paid"],
            "currency": invoice["currency"],
            "period_start": invoice["period_start"],
            "period_end": invoice["period_end"],
            "created": invoice["created"],
            "billing_reason": invoice.get("billing_reason"),
            "invoice_pdf": invoice.get("invoice_pdf"),
            "hosted_invoice_url": invoice.get("hosted_invoice_url"),
            "synced_at": synced,
        }
        newer_only = {
            "ConditionExpression": "attribute_not_exists(PK) OR synced_at <= :synced",
            "ExpressionAttributeValues": values(synced=synced),
        }
        pointer = {**invoice_pointer_key(sub, invoice["id"]), "entity": "invoice-id", "sort_key": sort_key}
        try:
            self.table.transact(
                [
                    {"Put": {"Item": marshal(record), **newer_only}},
                    {"Put": {"Item": marshal(pointer)}},
                    _account_check(sub, str(invoice["customer"])),
                ]
            )
        except TransactionCancelled as exc:
            if exc.failed(0) or exc.failed(2):
                return False
            raise
        return True
