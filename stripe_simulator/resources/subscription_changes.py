"""Subscriptions to monthly Prices: creating one (its first invoice paid at once, or the
decline with `payment_behavior=error_if_incomplete`), changing its Price with proration
(`always_invoice`: the proration invoiced and paid at once), `cancel_at_period_end`,
SubscriptionSchedules (a change at the end of the period, released to undo it), and the passing
of time: at the end of a period the subscription is cancelled, moves to its schedule's next
phase, or renews with a new invoice (a failing card: `invoice.payment_failed`, `past_due`).

`renew_due` runs before every request (like the expiry of authorizations), so advancing the
simulator's clock past a period end and making any request applies what was due."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import forms
from ..errors import StripeAPIError, invalid
from ..routing import Route
from ..sdk import NotSimulated
from .common import live_customer, lookup
from .invoices import charge, finalize, line, mark_paid, new_invoice, pay, subscription_of
from .subscriptions import add_month, new_subscription, set_price

if TYPE_CHECKING:
    from ..core import Simulator

LIVE = ("active", "past_due", "trialing", "incomplete", "unpaid")
__all__ = ["LIVE", "ROUTES", "add_month", "invoice_paid", "renew_due"]


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
    if len(items) != 1:
        raise NotSimulated("subscriptions with more than one item are not simulated")
    item: dict[str, Any] = items[0]
    return item


def _payment_method(sim: Simulator, customer: str, identifier: str | None) -> str | None:
    """A subscription's own default card must be one of its customer's."""
    if not identifier:
        return None
    pm = sim.get(identifier, "payment_method")
    if pm is None or pm["customer"] != customer:
        raise invalid(
            f"The customer does not have a payment method with the ID {identifier}. The payment method must be "
            "attached to the customer.",
            param="default_payment_method",
            code="resource_missing",
        )
    return identifier


def _product_name(sim: Simulator, price: dict[str, Any]) -> str:
    """How Stripe names a Price on an invoice line: its Product's name."""
    product = sim.get(price["product"], "product")
    return str(product["name"]) if product is not None else str(price["product"])


def _price_text(price: dict[str, Any]) -> str:
    amount = f"{price['unit_amount'] / 100:,.2f}"
    return f"${amount}" if price["currency"] == "usd" else f"{amount} {price['currency'].upper()}"


def _day(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d %b %Y")


def _proration_lines(
    sim: Simulator, sub: dict[str, Any], old: dict[str, Any], new: dict[str, Any], now: int
) -> list[dict[str, Any]]:
    start, end = period(sub)
    fraction = max(end - now, 0) / max(end - start, 1)
    item = _item(sub)["id"]
    return [
        line(
            sim,
            f"Unused time on {_product_name(sim, old)} after {_day(now)}",
            -round(old["unit_amount"] * fraction),
            old,
            now,
            end,
            proration=True,
            item=item,
        ),
        line(
            sim,
            f"Remaining time on {_product_name(sim, new)} after {_day(now)}",
            round(new["unit_amount"] * fraction),
            new,
            now,
            end,
            proration=True,
            item=item,
        ),
    ]


def _cycle_line(sim: Simulator, price: dict[str, Any], start: int, end: int, item: str) -> dict[str, Any]:
    return line(
        sim,
        f"1 × {_product_name(sim, price)} (at {_price_text(price)} / month)",
        price["unit_amount"],
        price,
        start,
        end,
        proration=False,
        item=item,
    )


# ---------------------------------------------------------------------- subscriptions
def create(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    customer = live_customer(sim, forms.string(params, "customer", required=True) or "")
    requested = _one_item(params)
    if requested is None:
        raise invalid("Missing required param: items.", param="items", code="parameter_missing")
    price = _price(sim, requested.get("price"), "items[0][price]")
    sub = new_subscription(
        sim,
        customer["id"],
        price,
        status="incomplete",
        default_payment_method=_payment_method(sim, customer["id"], params.get("default_payment_method")),
        metadata=forms.metadata(params),
        save=False,
    )
    start, end = period(sub)
    invoice = new_invoice(
        sim,
        customer["id"],
        [_cycle_line(sim, price, start, end, _item(sub)["id"])],
        subscription=sub,
        billing_reason="subscription_create",
        currency=price["currency"],
        save=False,
    )
    if params.get("payment_behavior") == "error_if_incomplete":
        failure = charge(sim, invoice, subscription=sub)  # nothing is created unless it is paid
        if failure is not None:
            raise failure
        _created(sim, sub, invoice)
        finalize(sim, invoice)
        mark_paid(sim, invoice)
        sub["status"] = "active"
        sim.emit("customer.subscription.updated", sub, {"status": "incomplete"})
        return sub
    _created(sim, sub, invoice)
    finalize(sim, invoice)
    if pay(sim, invoice) is None:
        sub["status"] = "active"
        sim.emit("customer.subscription.updated", sub, {"status": "incomplete"})
    return sub


def _created(sim: Simulator, sub: dict[str, Any], invoice: dict[str, Any]) -> None:
    sub["latest_invoice"] = invoice["id"]
    sim.save(sub)
    sim.emit("customer.subscription.created", sub)
    sim.save(invoice)
    sim.emit("invoice.created", invoice)


def update(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    sub = lookup(sim, "subscription", id)
    if sub["status"] not in LIVE:
        raise invalid("A canceled subscription can only update its cancellation_details and metadata.")
    previous: dict[str, Any] = {}
    sub_metadata = forms.metadata(params, sub["metadata"])
    if sub_metadata != sub["metadata"]:
        previous["metadata"], sub["metadata"] = sub["metadata"], sub_metadata
    if "default_payment_method" in params:
        chosen = _payment_method(sim, sub["customer"], params["default_payment_method"])
        if chosen != sub["default_payment_method"]:
            previous["default_payment_method"], sub["default_payment_method"] = sub["default_payment_method"], chosen
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
    _cancellation_details(sub, params.get("cancellation_details"), previous)
    if previous:
        sim.emit("customer.subscription.updated", sub, previous)
    return sub


def _cancellation_details(sub: dict[str, Any], details: Any, previous: dict[str, Any]) -> None:
    """The customer's own words on cancelling, kept as given ('' clears one)."""
    if not isinstance(details, dict):
        return
    before = dict(sub["cancellation_details"])
    for name in ("comment", "feedback"):
        if name in details:
            sub["cancellation_details"][name] = details[name] or None
    if sub["cancellation_details"] != before:
        previous["cancellation_details"] = before


def _change_price(
    sim: Simulator, sub: dict[str, Any], requested: dict[str, Any], params: dict[str, Any], previous: dict[str, Any]
) -> None:
    item = _item(sub)
    if "id" not in requested:
        raise NotSimulated("adding a second item to a subscription is not simulated")
    if requested["id"] != item["id"]:
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
    set_price(item, new)
    if invoice is not None:
        previous["latest_invoice"], sub["latest_invoice"] = sub["latest_invoice"], invoice["id"]


def json_copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


def invoice_paid(sim: Simulator, invoice: dict[str, Any]) -> None:
    """A past_due subscription whose open invoice got paid is active again."""
    sub = subscription_of(sim, invoice)
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
def _phase(price: dict[str, Any], start: int, end: int, proration_behavior: str) -> dict[str, Any]:
    return {
        "add_invoice_items": [],
        "application_fee_percent": None,
        "billing_cycle_anchor": None,
        "billing_thresholds": None,
        "collection_method": None,
        "currency": price["currency"],
        "default_payment_method": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "end_date": end,
        "invoice_settings": None,
        "items": [
            {
                "billing_thresholds": None,
                "discounts": [],
                "metadata": {},
                "plan": price["id"],
                "price": price["id"],
                "quantity": 1,
                "tax_rates": [],
            }
        ],
        "metadata": {},
        "on_behalf_of": None,
        "proration_behavior": proration_behavior,
        "start_date": start,
        "transfer_data": None,
        "trial_end": None,
    }


def _current_phase(schedule: dict[str, Any], now: int) -> dict[str, Any] | None:
    for phase in schedule["phases"]:
        if phase["start_date"] <= now < phase["end_date"]:
            return {"start_date": phase["start_date"], "end_date": phase["end_date"]}
    return None


def create_schedule(sim: Simulator, params: dict[str, Any]) -> dict[str, Any]:
    if "from_subscription" not in params:
        raise NotSimulated("only schedules made from an existing subscription are simulated")
    sub = lookup(sim, "subscription", params["from_subscription"], param="from_subscription")
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
        "application": None,
        "billing_mode": json_copy(sub["billing_mode"]),
        "canceled_at": None,
        "completed_at": None,
        "created": sim.now(),
        "current_phase": {"end_date": end, "start_date": start},
        "customer": sub["customer"],
        "default_settings": {
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": "automatic",
            "billing_thresholds": None,
            "collection_method": "charge_automatically",
            "default_payment_method": sub["default_payment_method"],
            "description": None,
            "invoice_settings": {
                "account_tax_ids": None,
                "custom_fields": None,
                "days_until_due": None,
                "description": None,
                "footer": None,
                "issuer": {"type": "self"},
            },
            "on_behalf_of": None,
            "transfer_data": None,
        },
        "end_behavior": "release",
        "livemode": False,
        "metadata": forms.metadata(params),
        "pause_schedules": [],
        "phases": [_phase(_item(sub)["price"], start, end, "create_prorations")],
        "released_at": None,
        "released_subscription": None,
        "status": "active",
        "subscription": sub["id"],
        "test_clock": None,
    }
    sim.save(schedule)
    sub["schedule"] = schedule["id"]
    sim.emit("subscription_schedule.created", schedule)
    sim.emit("customer.subscription.updated", sub, {"schedule": None})
    return schedule


def _after(start: int, duration: dict[str, Any]) -> int:
    """The end of a phase of `duration` (`{interval, interval_count}`) that starts at `start`."""
    count: int = duration.get("interval_count", 1)
    if count < 1:
        raise invalid("This value must be greater than or equal to 1.", param="duration[interval_count]")
    interval = duration["interval"]
    if interval in ("day", "week"):
        return start + count * (86400 if interval == "day" else 7 * 86400)
    end = start
    for _ in range(count * (12 if interval == "year" else 1)):
        end = add_month(end, start)
    return end


def _phase_end(phase: dict[str, Any], start: int, last: bool, path: str) -> int:
    if "end_date" in phase and "duration" in phase:
        raise invalid(
            "You may only specify one of these parameters: duration, end_date.",
            param=f"{path}[duration]",
            code="parameters_exclusive",
        )
    if phase.get("end_date") == "now" or phase.get("start_date") == "now" or "trial_end" in phase:
        raise NotSimulated("phases starting or ending `now`, and trials, are not simulated")
    if "end_date" in phase:
        return int(phase["end_date"])
    if "duration" in phase:
        return _after(start, phase["duration"])
    if not last:
        raise invalid(f"Missing required param: {path}[end_date].", param=f"{path}[end_date]", code="parameter_missing")
    return add_month(start, start)  # the last phase lasts one billing period unless told otherwise


def _at_period_end(sub: dict[str, Any], moment: int) -> bool:
    """Whether `moment` is the end of one of the subscription's billing periods from now on."""
    end = period(sub)[1]
    while end < moment:
        end = add_month(end, sub["billing_cycle_anchor"])
    return end == moment


def update_schedule(sim: Simulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    schedule = lookup(sim, "subscription_schedule", id)
    if schedule["status"] not in ("active", "not_started"):
        raise invalid(
            f"You cannot update a subscription schedule that is currently in the `{schedule['status']}` status."
        )
    phases = params.get("phases")
    if phases is not None:
        built = []
        start = schedule["phases"][0]["start_date"]
        for index, phase in enumerate(phases):
            path = f"phases[{index}]"
            item = _one_item(phase)
            if item is None:
                raise invalid(f"Missing required param: {path}[items].", param=f"{path}[items]")
            price = _price(sim, item.get("price"), f"{path}[items][0][price]")
            phase_start = phase.get("start_date", start)
            if index == 0 and phase_start != schedule["phases"][0]["start_date"]:
                raise invalid("You can not modify the start date of the current phase.", param=f"{path}[start_date]")
            if index > 0 and not _at_period_end(sim.objects[schedule["subscription"]], phase_start):
                raise NotSimulated("phases that start inside a billing period are not simulated")
            end = _phase_end(phase, phase_start, index == len(phases) - 1, path)
            if end <= phase_start:
                raise invalid("The phase end_date must be after its start_date.", param=f"{path}[end_date]")
            behavior = phase.get("proration_behavior", "create_prorations")
            built.append(_phase(price, phase_start, end, behavior))
            start = end
        schedule["phases"] = built
    if "end_behavior" in params:
        if params["end_behavior"] not in ("release", "cancel"):
            raise NotSimulated(f"end_behavior {params['end_behavior']!r} is not simulated")
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
            set_price(item, sim.objects[following[0]["items"][0]["price"]])
            schedule["current_phase"] = {"end_date": following[0]["end_date"], "start_date": following[0]["start_date"]}
            sim.emit("subscription_schedule.updated", schedule)
        elif schedule["end_behavior"] == "cancel":
            cancel_at_end(sim, sub, end)
            return
        else:
            _release(sim, schedule)
    new_end = add_month(end, sub["billing_cycle_anchor"])
    item.update(current_period_start=end, current_period_end=new_end)
    price = item["price"]
    invoice = new_invoice(
        sim,
        sub["customer"],
        [_cycle_line(sim, price, end, new_end, item["id"])],
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
    requested = _one_item(details)
    subscription_id = forms.string(params, "subscription")
    now = sim.now()
    if subscription_id is None:
        if requested is None:
            raise invalid("Missing required param: subscription_details[items].", param="subscription_details[items]")
        price = _price(sim, requested.get("price"), "subscription_details[items][0][price]")
        lines = [_cycle_line(sim, price, now, add_month(now), sim.new_id("si", 14))]
        return _preview_of(sim, customer["id"], lines, None, "subscription_create", price["currency"])
    sub = lookup(sim, "subscription", subscription_id, param="subscription")
    if sub["customer"] != customer["id"]:
        raise invalid("The subscription does not belong to this customer.", param="subscription")
    if sub["status"] not in LIVE or forms.boolean(details, "cancel_at_period_end", sub["cancel_at_period_end"]):
        raise StripeAPIError(404, "No upcoming invoices for customer", code="invoice_upcoming_none")
    if requested is not None and requested.get("id") != _item(sub)["id"]:
        raise NotSimulated("previews that add a second item to a subscription are not simulated")
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
        _cycle_line(sim, target, end, add_month(end, sub["billing_cycle_anchor"]), _item(sub)["id"])
    ]
    return _preview_of(sim, customer["id"], lines, sub, "subscription_cycle", target["currency"])


def _preview_of(  # noqa: PLR0917
    sim: Simulator, customer: str, lines: list[dict[str, Any]], sub: dict[str, Any] | None, reason: str, currency: str
) -> dict[str, Any]:
    invoice = new_invoice(sim, customer, lines, subscription=sub, billing_reason=reason, currency=currency, save=False)
    invoice["id"] = "upcoming_" + invoice["id"]
    for item in lines:
        item["invoice"] = invoice["id"]
    return invoice


ROUTES = [
    Route("v1.subscriptions.create", create),
    Route("v1.subscriptions.update", update),
    Route("v1.subscription_schedules.create", create_schedule),
    Route("v1.subscription_schedules.retrieve", retrieve_schedule),
    Route("v1.subscription_schedules.update", update_schedule),
    Route("v1.subscription_schedules.release", release_schedule),
]
