"""The shape of the shared package, checked from its source: only stores (and the table wrapper)
build DynamoDB expressions and transaction items, and production code never names test or local
code (the Stripe simulator included)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "common" / "account_billing"
FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

# What only a store builds: DynamoDB's expressions, and the actions of a transaction.
EXPRESSIONS = frozenset(
    {"UpdateExpression", "ConditionExpression", "KeyConditionExpression", "FilterExpression", "ProjectionExpression"}
)
TRANSACTION_ACTIONS = frozenset({"Put", "Update", "Delete", "ConditionCheck"})
TABLE_WRAPPER = PACKAGE / "core" / "table.py"
NOT_IN_PRODUCTION = ("stripe_simulator", "tests", "local", "bench", "moto")


def expressions_built(source: str) -> list[str]:
    """Where `source` builds an expression or a transaction action: keyword arguments and dict
    keys with those names, as `name@line`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg in EXPRESSIONS:
            found.append(f"{node.arg}@{node.value.lineno}")
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and key.value in EXPRESSIONS | TRANSACTION_ACTIONS:
                    found.append(f"{key.value}@{key.lineno}")
    return found


def names_imported(source: str) -> set[str]:
    """Every module `source` imports, statically or through importlib, by its top-level name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in NOT_IN_PRODUCTION:
            names.add(node.value)
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("stripe_simulator")
        ):
            names.add("stripe_simulator")
    return names


def _production_modules() -> list[Path]:
    return sorted([*PACKAGE.rglob("*.py"), *FUNCTIONS.rglob("*.py")])


def test_the_scanner_finds_an_expression_and_a_transaction_action() -> None:
    source = (
        "table.update(key, UpdateExpression='SET a = :a')\n"
        "actions = [{'Put': {'Item': item}}]\n"
        "query = {'KeyConditionExpression': 'PK = :pk'}\n"
    )
    assert sorted(expressions_built(source)) == ["KeyConditionExpression@3", "Put@2", "UpdateExpression@1"]
    assert expressions_built("table.update(key, Item=item)\nstatus = {'Put': 1}['Put']\n") == ["Put@2"]


def test_only_stores_build_dynamodb_expressions() -> None:
    outside = {
        str(path.relative_to(PACKAGE.parents[2])): found
        for path in _production_modules()
        if "store" not in path.stem and path != TABLE_WRAPPER and (found := expressions_built(path.read_text()))
    }
    assert outside == {}, "move these expressions into a store"


def test_every_store_is_where_expressions_are_built() -> None:
    """The rule is not vacuous: the stores do build them (and are named so)."""
    stores = list(PACKAGE.rglob("*store*.py"))
    assert len(stores) >= 8
    assert all(expressions_built(p.read_text()) for p in stores), [p.name for p in stores]


def test_production_code_never_names_test_or_local_code() -> None:
    naming = {
        str(path.relative_to(PACKAGE.parents[2])): sorted(named)
        for path in _production_modules()
        if (named := names_imported(path.read_text()) & set(NOT_IN_PRODUCTION))
    }
    assert naming == {}


def test_the_import_scanner_sees_importlib_too() -> None:
    source = "import importlib\nmodule = importlib.import_module('stripe_simulator.process')\nfrom tests import x\n"
    assert {"stripe_simulator", "tests"} <= names_imported(source)
