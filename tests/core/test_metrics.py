"""The service's metrics have bounded dimensions and literal names: the code is scanned for every
call that names a metric or adds a dimension, and every EMF object the tests emit is checked
(tests.support.emf). These tests show both checks catch what they are for."""

from __future__ import annotations

from pathlib import Path

from tests.support.emf import ALLOWED_DIMENSIONS, SERVICE, code_metrics, emf_problems, scan


def test_no_metric_the_code_counts_has_a_dynamic_name_or_an_unbounded_dimension() -> None:
    found = code_metrics()

    assert found.problems == []
    assert len(found.names) >= 30  # the scan does find the service's metrics
    assert {"service": frozenset({SERVICE})} == ALLOWED_DIMENSIONS


def test_the_scan_catches_an_account_key_as_a_dimension_and_a_computed_name(tmp_path: Path) -> None:
    source = tmp_path / "service.py"
    source.write_text(
        "def charge(sub, status):\n"
        "    metrics.add_dimension(name='account', value=sub)\n"
        "    metrics.add_metric(name=f'Charge{status}', unit='Count', value=1)\n"
        "    metrics.add_dimensions(plan='pro', request_id=sub)\n"
        "    count('StripeUnavailable')\n"
        "    text.count('@')\n"
        "    metrics.add_metric(name='Paid' if status else 'Unpaid', unit='Count', value=1)\n"
    )

    found = scan([source])

    assert sorted(found.names) == ["Paid", "StripeUnavailable", "Unpaid"]
    problems = "\n".join(found.problems)
    assert "dimension account" in problems
    assert "dimension plan" in problems
    assert "dimension request_id" in problems
    assert "metric name that is not literal" in problems


def test_an_emitted_metric_with_an_account_dimension_is_refused() -> None:
    blob = {
        "_aws": {
            "Timestamp": 0,
            "CloudWatchMetrics": [
                {
                    "Namespace": "AccountBilling",
                    "Dimensions": [["service", "account"]],
                    "Metrics": [{"Name": "HoldPlaced"}],
                }
            ],
        },
        "service": SERVICE,
        "account": "user-ada",
        "HoldPlaced": [1.0],
    }

    assert emf_problems(blob) == ["HoldPlaced: dimension account='user-ada' is not a bounded dimension"]
    blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = [["service"]]  # type: ignore[index]
    assert emf_problems(blob) == []
    blob["_aws"]["CloudWatchMetrics"][0]["Metrics"] = [{"Name": "Charge_user-ada"}]  # type: ignore[index]
    blob["Charge_user-ada"] = [1.0]
    assert emf_problems(blob) == [
        "Charge_user-ada: not a metric the code names literally (docs/runbook.md's inventory)"
    ]
