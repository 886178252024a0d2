"""Subscriptions to monthly Prices: creating one (its first invoice paid at once, or a 402 with
`payment_behavior=error_if_incomplete`), changing its Price with proration (`always_invoice`:
the proration invoiced and paid at once), `cancel_at_period_end`, SubscriptionSchedules (a
change at the end of the period, released to undo it), and the passing of time: at the end of
a period the subscription is cancelled, moves to its schedule's next phase, or renews with a
new invoice (a failing card: `invoice.payment_failed`, the subscription `past_due`).

`renew_due` runs before every request (like the expiry of authorizations), so advancing the
simulator's clock past a period end and making any request applies what was due."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import StripeAPIError, invalid
from ..routing import Route
from .common import ID, live_customer, lookup
from .invoices import finalize, line, mark_paid, new_invoice, pay

if TYPE_CHECKING:
    from ..core import Simulator

LIVE = ("active", "past_due", "trialing", "incomplete", "unpaid")
_ITEM = {"id": forms.ANY, "price": forms.ANY, "quantity": forms.ANY, "deleted": forms.ANY}


def add_month(moment: int, anchor: int | None = None) -> int:
    """One calendar month later, keeping the anchor's day where the month has it (Stripe's rule)."""
    start = datetime.fromtimestamp(moment, UTC)
    day = datetime.fromtimestamp(anchor if anchor is not None else moment, UTC).day
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    day = min(day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def _item(sub: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = sub["items"]["data"][0]
    return item


def period(sub: dict[str, Any]) -> tuple[int, int]:
    item = _item(sub)
    return item["current_period_start"], item["current_period_end"]


def _price(sim: Simulator, identifier: Any, param: str) -> dict[str, Any]:
    if not isinstance(identifier, str) or not identifier:
        raise invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")
    return lookup(sim, "price", identifier, param=param)


def _one_item(params: dict[str, Any], name: str = "items") -> dict[str, Any] | None:
    items = params.get(name)
    if items in (None, ""):
        return None
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise invalid("Exactly one subscription item is simulated.", param=name)
    item: dict[str, Any] = items[0]
    return item


def _proration_lines(
    sim: Simulator, sub: dict[str, Any], old: dict[str, Any], new: dict[str, Any], now: int
) -> list[dict[str, Any]]:
    start, end = period(sub)
    fraction = max(end - now, 0) / max(end - start, 1)
    return [
        line(sim, f"Unused time on {old['id']}", -round(old["unit_amount"] * fraction), old, now, end, proration=True),
        line(
            sim, f"Remaining time on {new['id']}", round(new["unit_amount"] * fraction), new, now, end, proration=True
        ),
    ]


def _cycle_line(sim: Simulator, price: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    return line(
        sim,
        f"1 × {price['product']} (at {price['unit_amount']} / month)",
        price["unit_amount"],
        price,
        start,
        end,
        proration=False,
    )


# ---------------------------------------------------------------------- subscriptions
def create(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    customer = live_customer(sim, forms.string(params, "customer", required=True) or "")
    requested = _one_item(params)
    if requested is None:
        raise invalid("Missing required param: items.", param="items", code="parameter_missing")
    price = _price(sim, requested.get("price"), "items[0][price]")
    behavior = forms.string(params, "payment_behavior") or "allow_incomplete"
    now = sim.now()
    identifier = sim.new_id("sub")
    end = add_month(now)
    sub = {
        "id": identifier,
        "object": "subscription",
        "application": None,
        "billing_cycle_anchor": now,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": now,
        "currency": price["currency"],
        "customer": customer["id"],
        "default_payment_method": forms.string(params, "default_payment_method"),
        "description": None,
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": sim.new_id("si", 14),
                    "object": "subscription_item",
                    "created": now,
                    "current_period_start": now,
                    "current_period_end": end,
                    "metadata": {},
                    "price": price,
                    "quantity": 1,
                    "subscription": identifier,
                }
            ],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={identifier}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": forms.metadata(params),
        "pending_update": None,
        "schedule": None,
        "start_date": now,
        "status": "incomplete",
    }
    invoice = new_invoice(
        sim,
        customer["id"],
        [_cycle_line(sim, price, now, end)],
        subscription=sub,
        billing_reason="subscription_create",
        currency=price["currency"],
        save=False,
    )
    if behavior == "error_if_incomplete":
        from .invoices import charge  # noqa: PLC0415

        sim.save(invoice)  # numbered like any invoice, but only kept if it is paid
        invoice["number"] = "pending"
        failure = charge(sim, invoice)
        if failure is not None:
            del sim.objects[invoice["id"]]
            raise failure
        sim.save(sub)
        sim.emit("customer.subscription.created", sub)
        sub["latest_invoice"] = invoice["id"]
        invoice["status"] = "draft"
        sim.emit("invoice.created", invoice)
        finalize(sim, invoice)
        mark_paid(sim, invoice)
        sub["status"] = "active"
        sim.emit("customer.subscription.updated", sub, {"status": "incomplete", "latest_invoice": None})
        return sub
    sim.save(sub)
    sim.emit("customer.subscription.created", sub)
    sim.save(invoice)
    sub["latest_invoice"] = invoice["id"]
    sim.emit("invoice.created", invoice)
    finalize(sim, invoice)
    if pay(sim, invoice) is None:
        sub["status"] = "active"
        sim.emit("customer.subscription.updated", sub, {"status": "incomplete"})
    return sub


def update(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    sub = lookup(sim, "subscription", id)
    if sub["status"] not in LIVE:
        raise invalid("A canceled subscription can only update its cancellation_details and metadata.")
    previous: dict[str, Any] = {}
    sub_metadata = forms.metadata(params, sub["metadata"])
    if sub_metadata != sub["metadata"]:
        previous["metadata"], sub["metadata"] = sub["metadata"], sub_metadata
    if "default_payment_method" in params:
        previous["default_payment_method"] = sub["default_payment_method"]
        sub["default_payment_method"] = params["default_payment_method"] or None
    requested = _one_item(params)
    if requested is not None:
        _change_price(sim, sub, requested, params, previous)
    if "cancel_at_period_end" in params:
        if sub["schedule"]:
            raise invalid(
                "The subscription is managed by the subscription schedule "
                f"`{sub['schedule']}`, and updating any cancelation behavior directly is not allowed.",
                param="cancel_at_period_end",
            )
        cancel = forms.boolean(params, "cancel_at_period_end")
        if cancel != sub["cancel_at_period_end"]:
            previous.update(cancel_at_period_end=sub["cancel_at_period_end"], cancel_at=sub["cancel_at"])
            sub.update(cancel_at_period_end=cancel, cancel_at=period(sub)[1] if cancel else None)
            sub["cancellation_details"]["reason"] = "cancellation_requested" if cancel else None
    if previous:
        sim.emit("customer.subscription.updated", sub, previous)
    return sub


def _change_price(
    sim: Simulator, sub: dict[str, Any], requested: dict[str, Any], params: dict[str, Any], previous: dict[str, Any]
) -> None:
    item = _item(sub)
    if requested.get("id") not in (None, item["id"]):
        raise invalid(
            f"No such subscription item: '{requested.get('id')}'", param="items[0][id]", code="resource_missing"
        )
    new = _price(sim, requested.get("price"), "items[0][price]")
    old = item["price"]
    if new["id"] == old["id"]:
        return
    if sub["schedule"]:
        raise invalid(
            f"The subscription is managed by the subscription schedule `{sub['schedule']}`, and updating any "
            "items directly is not allowed. Update the schedule, or release it first.",
            param="items",
        )
    behavior = forms.string(params, "proration_behavior") or "create_prorations"
    if behavior not in ("create_prorations", "always_invoice", "none"):
        raise invalid(f"Invalid proration_behavior: {behavior}", param="proration_behavior")
    invoice = None
    if behavior == "always_invoice":
        lines = _proration_lines(sim, sub, old, new, sim.now())
        invoice = new_invoice(
            sim,
            sub["customer"],
            lines,
            subscription=sub,
            billing_reason="subscription_update",
            currency=new["currency"],
        )
        finalize(sim, invoice)
        failure = pay(sim, invoice)
        if failure is not None and forms.string(params, "payment_behavior") in (
            "error_if_incomplete",
            "pending_if_incomplete",
        ):
            invoice["status"] = "void"
            invoice["status_transitions"]["voided_at"] = sim.now()
            sim.emit("invoice.voided", invoice)
            raise failure
        if failure is not None:
            previous["status"], sub["status"] = sub["status"], "past_due"
    previous["items"] = json_copy(sub["items"])
    item["price"] = new
    if invoice is not None:
        previous["latest_invoice"], sub["latest_invoice"] = sub["latest_invoice"], invoice["id"]


def json_copy(value: Any) -> Any:
    import json  # noqa: PLC0415

    return json.loads(json.dumps(value))


def invoice_paid(sim: Simulator, invoice: dict[str, Any]) -> None:
    """A past_due subscription whose open invoice got paid is active again."""
    subscription_id = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    sub = sim.get(subscription_id, "subscription") if subscription_id else None
    if sub is not None and sub["status"] == "past_due":
        sub["status"] = "active"
        sim.emit("customer.subscription.updated", sub, {"status": "past_due"})


def cancel_at_end(sim: Simulator, sub: dict[str, Any], when: int) -> None:
    sub.update(status="canceled", canceled_at=when, ended_at=when)
    if sub["schedule"]:
        schedule = sim.objects[sub["schedule"]]
        schedule.update(status="canceled", canceled_at=when)
        sim.emit("subscription_schedule.canceled", schedule)
    sim.emit("customer.subscription.deleted", sub)


# ---------------------------------------------------------------------- schedules
def _phase(sim: Simulator, price: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    return {
        "add_invoice_items": [],
        "currency": price["currency"],
        "default_payment_method": None,
        "end_date": end,
        "items": [{"metadata": {}, "price": price["id"], "quantity": 1}],
        "metadata": {},
        "proration_behavior": "create_prorations",
        "start_date": start,
        "trial_end": None,
    }


def _current_phase(schedule: dict[str, Any], now: int) -> dict[str, Any] | None:
    for phase in schedule["phases"]:
        if phase["start_date"] <= now < phase["end_date"]:
            return {"start_date": phase["start_date"], "end_date": phase["end_date"]}
    return None


def create_schedule(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    sub = lookup(
        sim, "subscription", forms.string(params, "from_subscription", required=True) or "", param="from_subscription"
    )
    if sub["status"] not in LIVE:
        raise invalid(
            "You cannot migrate a canceled subscription to a subscription schedule.", param="from_subscription"
        )
    if sub["schedule"]:
        raise invalid(
            f"You cannot migrate a subscription that is already attached to a schedule: `{sub['schedule']}`.",
            param="from_subscription",
        )
    if sub["cancel_at_period_end"]:
        raise invalid(
            "You cannot migrate a subscription that is set to cancel at period end.", param="from_subscription"
        )
    start, end = period(sub)
    schedule = {
        "id": sim.new_id("sub_sched"),
        "object": "subscription_schedule",
        "canceled_at": None,
        "completed_at": None,
        "created": sim.now(),
        "current_phase": {"start_date": start, "end_date": end},
        "customer": sub["customer"],
        "end_behavior": "release",
        "livemode": False,
        "metadata": {},
        "phases": [_phase(sim, _item(sub)["price"], start, end)],
        "released_at": None,
        "released_subscription": None,
        "status": "active",
        "subscription": sub["id"],
    }
    sim.save(schedule)
    sub["schedule"] = schedule["id"]
    sim.emit("subscription_schedule.created", schedule)
    sim.emit("customer.subscription.updated", sub, {"schedule": None})
    return schedule


def update_schedule(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    schedule = lookup(sim, "subscription_schedule", id)
    if schedule["status"] not in ("active", "not_started"):
        raise invalid(
            f"You cannot update a subscription schedule that is currently in the `{schedule['status']}` status."
        )
    phases = params.get("phases")
    if phases is not None:
        if not isinstance(phases, list) or not phases:
            raise invalid("Invalid array", param="phases")
        built = []
        start = schedule["phases"][0]["start_date"]
        for index, phase in enumerate(phases):
            item = _one_item(phase)
            if item is None:
                raise invalid("Missing required param: phases[0][items].", param=f"phases[{index}][items]")
            price = _price(sim, item.get("price"), f"phases[{index}][items][0][price]")
            phase_start = forms.integer(phase, "start_date") or start
            end = forms.integer(phase, "end_date")
            if end is None:
                iterations = forms.integer(phase, "iterations") or 1
                end = phase_start
                for _ in range(iterations):
                    end = add_month(end, phase_start)
            if index == 0 and phase_start != schedule["phases"][0]["start_date"]:
                raise invalid("You can not modify the start date of the current phase.", param="phases[0][start_date]")
            if end <= phase_start:
                raise invalid("The phase end_date must be after its start_date.", param=f"phases[{index}][end_date]")
            built.append(_phase(sim, price, phase_start, end))
            start = end
        schedule["phases"] = built
    if "end_behavior" in params:
        if params["end_behavior"] not in ("release", "cancel"):
            raise invalid("Invalid end_behavior", param="end_behavior")
        schedule["end_behavior"] = params["end_behavior"]
    schedule["metadata"] = forms.metadata(params, schedule["metadata"])
    schedule["current_phase"] = _current_phase(schedule, sim.now())
    sim.emit("subscription_schedule.updated", schedule)
    return schedule


def release_schedule(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    schedule = lookup(sim, "subscription_schedule", id)
    if schedule["status"] not in ("active", "not_started"):
        raise invalid(
            f"You cannot release a subscription schedule that is currently in the `{schedule['status']}` status."
        )
    _release(sim, schedule)
    return schedule


def _release(sim: Simulator, schedule: dict[str, Any]) -> None:
    schedule.update(
        status="released", released_at=sim.now(), released_subscription=schedule["subscription"], current_phase=None
    )
    sub = sim.objects[schedule["subscription"]]
    schedule["subscription"] = None
    sub["schedule"] = None
    sim.emit("subscription_schedule.released", schedule)
    sim.emit("customer.subscription.updated", sub, {"schedule": schedule["id"]})


def retrieve_schedule(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return lookup(sim, "subscription_schedule", id)


# ---------------------------------------------------------------------- time passing
def renew_due(sim: Simulator) -> None:
    """Apply every period end that has passed: cancel, move to the next phase, or renew."""
    now = sim.now()
    for sub in sim.all("subscription"):
        while sub["status"] in LIVE and "current_period_end" in _item(sub) and period(sub)[1] <= now:
            _end_period(sim, sub)


def _end_period(sim: Simulator, sub: dict[str, Any]) -> None:
    end = period(sub)[1]
    if sub["cancel_at_period_end"]:
        cancel_at_end(sim, sub, end)
        return
    item = _item(sub)
    previous: dict[str, Any] = {"items": json_copy(sub["items"])}
    if sub["schedule"]:
        schedule = sim.objects[sub["schedule"]]
        following = [p for p in schedule["phases"] if p["start_date"] >= end]
        if following:
            item["price"] = sim.objects[following[0]["items"][0]["price"]]
            schedule["current_phase"] = {"start_date": following[0]["start_date"], "end_date": following[0]["end_date"]}
            sim.emit("subscription_schedule.updated", schedule)
        else:
            _release(sim, schedule)
    new_end = add_month(end, sub["billing_cycle_anchor"])
    item.update(current_period_start=end, current_period_end=new_end)
    price = item["price"]
    invoice = new_invoice(
        sim,
        sub["customer"],
        [_cycle_line(sim, price, end, new_end)],
        subscription=sub,
        billing_reason="subscription_cycle",
        currency=price["currency"],
    )
    previous["latest_invoice"], sub["latest_invoice"] = sub["latest_invoice"], invoice["id"]
    finalize(sim, invoice)
    if pay(sim, invoice) is not None and sub["status"] != "past_due":
        previous["status"], sub["status"] = sub["status"], "past_due"
    elif invoice["status"] == "paid" and sub["status"] == "past_due":
        previous["status"], sub["status"] = sub["status"], "active"
    sim.emit("customer.subscription.updated", sub, previous)


# ---------------------------------------------------------------------- preview
def preview(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    """The invoice a change would produce: with `always_invoice`, the proration invoiced now;
    otherwise the next renewal's (prorations included with `create_prorations`)."""
    customer = live_customer(sim, forms.string(params, "customer", required=True) or "")
    details = params.get("subscription_details") or {}
    if not isinstance(details, dict):
        raise invalid("Invalid hash", param="subscription_details")
    requested = _one_item(details)
    subscription_id = forms.string(params, "subscription")
    now = sim.now()
    if subscription_id is None:
        if requested is None:
            raise invalid("Missing required param: subscription_details[items].", param="subscription_details[items]")
        price = _price(sim, requested.get("price"), "subscription_details[items][0][price]")
        end = add_month(now)
        lines = [_cycle_line(sim, price, now, end)]
        return _preview_of(sim, customer["id"], lines, None, "subscription_create", price["currency"])
    sub = lookup(sim, "subscription", subscription_id, param="subscription")
    if sub["customer"] != customer["id"]:
        raise invalid("The subscription does not belong to this customer.", param="subscription")
    if sub["status"] not in LIVE or forms.boolean(details, "cancel_at_period_end", sub["cancel_at_period_end"]):
        raise StripeAPIError(404, "No upcoming invoices for customer", code="invoice_upcoming_none")
    end = period(sub)[1]
    current = _item(sub)["price"]
    new = _price(sim, requested.get("price"), "subscription_details[items][0][price]") if requested else None
    if new is None and sub["schedule"]:
        following = [p for p in sim.objects[sub["schedule"]]["phases"] if p["start_date"] >= end]
        if following:
            new = sim.objects[following[0]["items"][0]["price"]]
    behavior = forms.string(details, "proration_behavior") or "create_prorations"
    target = new or current
    prorations = (
        _proration_lines(sim, sub, current, target, now) if new and new["id"] != current["id"] and requested else []
    )
    if behavior == "always_invoice":
        return _preview_of(sim, customer["id"], prorations, sub, "subscription_update", target["currency"])
    lines = (prorations if behavior == "create_prorations" else []) + [
        _cycle_line(sim, target, end, add_month(end, sub["billing_cycle_anchor"]))
    ]
    return _preview_of(sim, customer["id"], lines, sub, "subscription_cycle", target["currency"])


def _preview_of(  # noqa: PLR0917
    sim: Simulator, customer: str, lines: list[dict[str, Any]], sub: dict[str, Any] | None, reason: str, currency: str
) -> dict[str, Any]:
    invoice = new_invoice(sim, customer, lines, subscription=sub, billing_reason=reason, currency=currency, save=False)
    invoice["id"] = "upcoming_" + invoice["id"]
    return invoice


_CREATE = {
    "customer": forms.ANY,
    "items": _ITEM,
    "default_payment_method": forms.ANY,
    "payment_behavior": forms.ANY,
    "metadata": forms.ANY,
    "proration_behavior": forms.ANY,
    "collection_method": forms.ANY,
    "off_session": forms.ANY,
    "payment_settings": forms.ANY,
}
_UPDATE = {
    "items": _ITEM,
    "default_payment_method": forms.ANY,
    "payment_behavior": forms.ANY,
    "metadata": forms.ANY,
    "proration_behavior": forms.ANY,
    "proration_date": forms.ANY,
    "cancel_at_period_end": forms.ANY,
    "off_session": forms.ANY,
    "cancellation_details": forms.ANY,
}
_PHASE = {
    "items": {"price": forms.ANY, "quantity": forms.ANY},
    "start_date": forms.ANY,
    "end_date": forms.ANY,
    "iterations": forms.ANY,
    "proration_behavior": forms.ANY,
    "metadata": forms.ANY,
}

ROUTES = [
    Route("POST", r"/v1/subscriptions", create, _CREATE),
    Route("POST", rf"/v1/subscriptions/{ID}", update, _UPDATE),
    Route(
        "POST", r"/v1/subscription_schedules", create_schedule, {"from_subscription": forms.ANY, "metadata": forms.ANY}
    ),
    Route("GET", rf"/v1/subscription_schedules/{ID}", retrieve_schedule),
    Route(
        "POST",
        rf"/v1/subscription_schedules/{ID}",
        update_schedule,
        {"phases": _PHASE, "end_behavior": forms.ANY, "proration_behavior": forms.ANY, "metadata": forms.ANY},
    ),
    Route("POST", rf"/v1/subscription_schedules/{ID}/release", release_schedule, {"preserve_cancel_date": forms.ANY}),
]
