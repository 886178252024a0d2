"""The cold-start bench (bench/cold_start.py) covers every function of the template: each has a
scenario (bench/record.py) and a recording of it that the bench replays, of the template's own
artifact and handler, with the environment the template gives that function."""

from __future__ import annotations

import pytest

from bench import cold_start, record
from bench.recording import Recording, recordings
from local.template import FunctionSpec, functions, load_template

TEMPLATE = functions(load_template())


def scenarios_of(function: str) -> list[record.Scenario]:
    return [scenario for scenario in record.SCENARIOS if scenario.function == function]


@pytest.mark.parametrize("function", sorted(TEMPLATE))
def test_every_function_of_the_template_has_a_scenario_of_its_own_artifact(function: str) -> None:
    spec: FunctionSpec = TEMPLATE[function]
    scenarios = scenarios_of(function)
    assert scenarios, f"{function} has no cold-start scenario in bench/record.py"
    for scenario in scenarios:
        assert (scenario.source, scenario.handler) == (spec.code_uri.rstrip("/"), spec.handler)


@pytest.mark.parametrize("scenario", record.SCENARIOS, ids=lambda scenario: scenario.name)
def test_every_scenario_is_recorded_and_replayed_by_the_bench(
    scenario: record.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = recordings().get(scenario.name)
    assert recorded is not None, f"no recording of {scenario.name}: make bench-record SCENARIOS={scenario.name}"
    assert (recorded.source, recorded.handler, recorded.expect) == (scenario.source, scenario.handler, scenario.expect)
    assert recorded.exchanges, f"{scenario.name} made no call when it was recorded"
    if scenario.function is not None:  # its own environment: the template's variables are all there
        template_variables = set(TEMPLATE[scenario.function].environment)
        assert template_variables <= set(recorded.environment)
    monkeypatch.delenv("BENCH_ONLY", raising=False)
    assert scenario.name in [chosen.scenario for chosen in cold_start.chosen()]


def test_a_recording_the_scenarios_no_longer_name_is_not_left_behind() -> None:
    assert set(recordings()) == {scenario.name for scenario in record.SCENARIOS}


def test_a_recordings_answer_check_reads_a_json_body() -> None:
    recorded = Recording("x", "s", "app.h", {"statusCode": 202, "body": {"id": "a"}}, {}, {}, [])
    assert recorded.answered({"statusCode": 202, "body": '{"id": "a", "more": 1}'})
    assert not recorded.answered({"statusCode": 202, "body": '{"id": "b"}'})
    assert not recorded.answered({"statusCode": 500})
