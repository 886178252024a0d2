"""Schemathesis over the local stack, from the OpenAPI document it serves (DESIGN §3): no
input makes a 5xx, and every answer is one the document describes (status, content type,
headers, body). A fixed seed and deterministic generation make each run the same; CI runs a
bounded campaign, `make fuzz` a longer one (FUZZ_EXAMPLES, FUZZ_STATEFUL_RUNS)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.fuzz.conftest import STATEFUL_RUNS, STATEFUL_STEPS, FuzzTarget, load_schema

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("fuzz")]

schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented_and_never_fails(case: schemathesis.Case) -> None:
    case.call_and_validate()


def test_sequences_of_calls_linked_by_their_answers_stay_documented(fuzz_target: FuzzTarget) -> None:
    # Given a new account, and the operations chained by the document's links (a card added,
    # then made the default or removed by the id its addition answered...)
    # (Data exports run in the background and link to nothing: not part of these sequences.)
    api_schema = load_schema(fuzz_target.new_account("fuzz-sequences")).exclude(path_regex="^/v1/account/exports")
    reached: set[tuple[str, str, int]] = set()

    class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
        def after_call(self, response: schemathesis.Response, case: schemathesis.Case) -> None:
            reached.add((case.method, case.path, response.status_code))
            super().after_call(response, case)

    # When random sequences of them run against the stack, each answer is checked as above
    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=STATEFUL_RUNS,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            stateful_step_count=STATEFUL_STEPS,
        ),
    )
    # And the links took the sequences where random ids never go: a card added, made the
    # default and removed by the id its addition answered
    assert ("POST", "/v1/billing/payment-methods", 201) in reached
    assert ("PUT", "/v1/billing/payment-methods/{payment_method_id}/default", 204) in reached
    assert ("DELETE", "/v1/billing/payment-methods/{payment_method_id}", 204) in reached
