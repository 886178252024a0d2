"""DynamoDB requests per API route, counted through botocore's event hooks against moto
(budget: at most 2 per call, never a Scan; the exempt routes measured on their most expensive
path, each count justified). The scenarios live in tests/support/dynamodb_requests.py, where the
request-budget test asserts the same counts."""

from __future__ import annotations

from tests.support.dynamodb_requests import BUDGET, EXEMPT, measure


def main() -> None:
    print(f"DynamoDB requests per API call (budget {BUDGET}, no Scan; {', '.join(sorted(EXEMPT))} exempt)")
    print(f"{'route':<42}{'status':>7}{'requests':>10}  {'operations':<56}verdict")
    for route, status, total, operations in measure():
        ops = ", ".join(f"{name}×{n}" for name, n in sorted(operations.items()))
        ok = "Scan" not in operations and (total <= BUDGET or route in EXEMPT)
        verdict = ("over (exempt)" if total > BUDGET else "within") if ok else "OVER"
        print(f"{route:<42}{status:>7}{total:>10}  {ops:<56}{verdict}")
    print("Exempt, on their most expensive path:")
    for route, (count, why) in EXEMPT.items():
        print(f"  {route} ({count}): {why}")
