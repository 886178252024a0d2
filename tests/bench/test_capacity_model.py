"""The capacity model's arithmetic (bench/capacity.py): counted units and requests, times the
profile's rates, against the limits; shared keys over their shards; what a write costs."""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from typing import Any

from bench import capacity
from bench.capacity import Limit, Measured, Meter, Profile, Usage
from local.template import ROOT

PROFILE = Profile.load(capacity.PROFILE)


def measured(name: str, rate: float, runs: int, shared: dict[str, int] | None = None, **counters: Any) -> Measured:
    usage = Usage()
    for attribute, values in counters.items():
        getattr(usage, attribute).update(values)
    return Measured(name, rate, runs, usage, shared or {})


def operations() -> list[Measured]:
    """Three operations, counted over two runs each."""
    return [
        measured(
            "sign-up",
            2000,
            2,
            write_units=Counter({"T:ACCOUNT#a": 8, "T:ACCOUNT#b": 8}),
            invocations=Counter({"ProfileFunction": 2}),
            serial_calls=Counter({"ProfileFunction": 2}),
        ),
        measured(
            "card: added",
            300,
            2,
            shared={"T:LIMIT#stripe-calls": 2},
            write_units=Counter({"T:LIMIT#stripe-calls#0": 2, "T:LIMIT#stripe-calls#1": 2, "T:ACCOUNT#c": 6}),
            stripe=Counter({"POST /v1/payment_intents": 4}),
            invocations=Counter({"PaymentMethodsFunction": 2}),
            serial_calls=Counter({"PaymentMethodsFunction": 20}),
            serial_stripe=Counter({"PaymentMethodsFunction": 4}),
            by_function=Counter({("PaymentMethodsFunction", "GetParameter"): 2}),
        ),
        measured(
            "card: hold released",
            300,
            2,
            stripe=Counter({"POST /v1/payment_intents/{id}/cancel": 2}),
            invocations=Counter({"PreauthReleaseFunction": 2}),
            serial_stripe=Counter({"PreauthReleaseFunction": 2}),
        ),
        measured(
            "usage: a queue batch",
            25,
            2,
            write_units=Counter({"T:ACCOUNT#busy": 4, **{f"T:USAGE#{n}": 4 for n in range(124)}}),
            calls=Counter({("dynamodb", "TransactWriteItems"): 4}),
        ),
    ]


def limit(limits: list[Limit], area: str, starts: str) -> Limit:
    (found,) = [one for one in limits if one.area == area and one.name.startswith(starts)]
    return found


def test_table_writes_are_each_operations_units_per_run_times_its_rate() -> None:
    limits = capacity.model(operations(), PROFILE)

    writes = limit(limits, "DynamoDB", "table write units/s")
    # sign-up 8 units a run at 2,000/s; card 5 at 300/s; usage 250 a batch at 25 batches/s
    assert writes.load == 2000 * 8 + 300 * 5 + 25 * 250
    assert writes.headroom == PROFILE.launch["dynamodb_table_write_units_per_second"] / writes.load
    assert writes.default == 40_000  # the quota before the launch's increase, shown as such


def test_a_shared_key_takes_the_operations_whole_rate_over_its_shards() -> None:
    limits = capacity.model(operations(), PROFILE)

    hottest = limit(limits, "DynamoDB", "hottest partition, writes")
    # 2 units a run on the budget's counters, at 300/s, over the 4 counters a 1,500/s budget has
    # (more than the 2 the runs saw); an account's own key takes one operation a second.
    assert hottest.load == 300 * 2 / 4
    assert "LIMIT#stripe-calls#<n>" in hottest.name


def test_stripe_requests_add_up_by_budget() -> None:
    limits = capacity.model(operations(), PROFILE)

    assert limit(limits, "Stripe", "requests/s, all of them").load == 300 * 2 + 300 * 1
    assert limit(limits, "Stripe", "card flows' requests/s").load == 300 * 2
    background = limit(limits, "Stripe", "background requests/s")
    assert background.load == 300 * 1
    assert background.limit == PROFILE.launch["stripe_background_rate"]


def test_lambda_concurrency_is_invocations_times_the_counted_requests_latency() -> None:
    limits = capacity.model(operations(), PROFILE)

    # a card addition: one invocation, 10 AWS requests and 2 Stripe requests a run
    seconds = (PROFILE.handler_overhead_ms + 10 * PROFILE.aws_request_ms + 2 * PROFILE.stripe_request_ms) / 1000
    assert math.isclose(limit(limits, "Lambda", "PaymentMethodsFunction").load, 300 * seconds)


def test_ssm_reads_follow_the_readers_scaling_up() -> None:
    limits = capacity.model(operations(), PROFILE)

    concurrency = limit(limits, "Lambda", "PaymentMethodsFunction").load
    ssm = limit(limits, "SSM", "GetParameter")
    assert math.isclose(ssm.load, min(concurrency, 1000) / 10 + concurrency / 300)
    assert ssm.default == 40


def test_notices_count_as_rule_invocations_and_their_emails_as_ses_messages() -> None:
    # Given an address added: its notice delivered by the rule to its function, and two emails
    # (the verification link and the notice)
    notified = [
        *operations(),
        measured(
            "email: address added",
            200,
            2,
            invocations=Counter({"EmailsFunction": 2, "SecurityNoticesFunction": 2}),
            calls=Counter({("sesv2", "SendEmail"): 4}),
        ),
    ]

    limits = capacity.model(notified, PROFILE)

    # Then the rule's invocations are the usage events and the notices, at the operation's rate
    usage_events = PROFILE.usage_charges_per_second / PROFILE.charges_per_usage_event
    assert limit(limits, "EventBridge", "rule invocations").load == usage_events + 200 * 1
    # And SES sends its two messages a run, every second and all day at the peak
    assert limit(limits, "SES", "messages/s").load == 200 * 2
    daily = limit(limits, "SES", "messages a day")
    assert daily.load == 200 * 2 * 86_400
    assert daily.limit == PROFILE.launch["ses_sends_per_day"]
    assert daily.default == 50_000


def test_the_report_says_short_when_a_limit_has_no_headroom(capsys: Any) -> None:
    tight = Profile({**PROFILE.raw, "launch": {**PROFILE.launch, "stripe_background_rate": 100}})
    ops = operations()

    fine = capacity.report(ops, capacity.model(ops, tight), tight)

    assert fine is False
    line = next(row for row in capsys.readouterr().out.splitlines() if "background requests/s" in row)
    assert line.rstrip().endswith("SHORT")


def test_the_target_profiles_launch_block_is_what_the_readme_asks_for() -> None:
    readme = (ROOT / "README.md").read_text()
    checklist = readme[readme.index("### Launch checklist") :]
    launch = PROFILE.launch
    for figure in (
        launch["dynamodb_table_write_units_per_second"],
        launch["dynamodb_table_read_units_per_second"],
        launch["lambda_concurrent_executions"],
        launch["scheduler_schedules"],
        launch["stripe_requests_per_second"],
        launch["stripe_interactive_rate"],
        launch["stripe_background_rate"],
        launch["ses_sends_per_second"],
        launch["ses_sends_per_day"],
        launch["ssm_parameter_store_tps"],
        launch["api_route_rate_limit"],
    ):
        assert f"{figure:,}" in checklist, f"{figure:,} is not in the README's launch checklist"
    assert f"`StripeWorkerConcurrency` {launch['stripe_worker_concurrency']}" in checklist


# ---------------------------------------------------------------------------------------- one write


def meter() -> Meter:
    """A meter that knows the table's keys and its index (no stack needed for the arithmetic)."""
    counting: Any = object.__new__(Meter)
    counting._schemas = {"T": (["PK", "SK"], {"Due": "GSI1PK"})}
    counting._lock = threading.Lock()
    counting.current = Usage()
    return counting  # type: ignore[no-any-return]


def hold(index: str | None, padding: int) -> dict[str, Any]:
    item: dict[str, Any] = {"PK": {"S": "ACCOUNT#a"}, "SK": {"S": "HOLD#1"}, "blob": {"S": "x" * padding}}
    if index is not None:
        item["GSI1PK"] = {"S": index}
    return item


def test_a_transactions_write_costs_twice_its_kilobytes_on_its_partition() -> None:
    counting = meter()
    before, after = hold("HOLD#3", 100), hold("HOLD#3", 1500)  # about 0.1 KB, then 1.5 KB

    counting._count_write("T", {"PK": before["PK"], "SK": before["SK"]}, before, after, 2)

    assert counting.current.write_units == Counter({"T:ACCOUNT#a": 2 * 2})  # 2 KB, twice in a transaction
    assert counting.current.index_units == Counter({"Due:HOLD#3": 2})  # the index entry, rewritten


def test_an_index_key_that_changes_writes_both_index_entries() -> None:
    counting = meter()
    before, after = hold("HOLD#3", 10), hold(None, 10)  # released: out of the sparse index

    counting._count_write("T", {"PK": before["PK"], "SK": before["SK"]}, before, after, 1)

    assert counting.current.write_units == Counter({"T:ACCOUNT#a": 1})
    assert counting.current.index_units == Counter({"Due:HOLD#3": 1})  # removed from its entry; no new one


def test_a_write_that_changes_nothing_indexed_writes_no_index_entry() -> None:
    counting = meter()
    item = hold(None, 10)

    counting._count_write("T", {"PK": item["PK"], "SK": item["SK"]}, None, item, 1)

    assert counting.current.write_units == Counter({"T:ACCOUNT#a": 1})
    assert not counting.current.index_units


# ---------------------------------------------------------------------------------------- the webhooks


def test_the_model_delivers_the_events_the_readme_registers_the_webhook_for() -> None:
    registered = set(re.findall(r'enabled_events\[\]=([a-z_.]+)"', (ROOT / "README.md").read_text()))

    assert registered
    assert set(capacity.subscribed_events()) == registered


def test_background_tasks_fit_the_workers_batches() -> None:
    limits = capacity.model(operations(), PROFILE)

    running = limit(limits, "Lambda", "background Stripe tasks running at once")
    # a release: one invocation's overhead and one Stripe request, 300 a second
    assert math.isclose(running.load, 300 * (PROFILE.handler_overhead_ms + PROFILE.stripe_request_ms) / 1000)
    assert running.limit == PROFILE.launch["stripe_worker_concurrency"] * 10  # StripeTasks' BatchSize
