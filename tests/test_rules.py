"""records/rules.py names, for each safety rule, the code, database guards and tests that enforce it.

These tests keep that table true: every name in it must exist, so a renamed action, a dropped
trigger or a deleted test shows here instead of leaving a rule that points at nothing.
"""

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest
from django.db import connection

from records.rules import PENDING_MODULES, RULES, rule

ROOT = Path(__file__).resolve().parent.parent


def resolve(dotted: str) -> object:
    """The module, or the attribute of a module, named `dotted`."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            target = getattr(target, name)
        return target
    raise ModuleNotFoundError(dotted)


def database_names() -> set[str]:
    """Every trigger and constraint name in this database's catalog."""
    from django.apps import apps

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        names = {name for (name,) in cursor.fetchall()}
        for model in apps.get_app_config("records").get_models():
            names |= set(connection.introspection.get_constraints(cursor, model._meta.db_table))
    return names


def test_the_rules_are_the_six_of_the_issue_and_the_discharge_that_waits():
    assert [r.id for r in RULES] == ["R1", "R2", "R3", "R4", "R5", "R6", "R7"]
    assert rule("R3").text.startswith("Nothing is administered without")
    for r in RULES:
        assert r.text and r.action_checks and r.database_guards and r.tests, r.id


@pytest.mark.parametrize("entry", RULES, ids=lambda r: r.id)
def test_every_action_check_exists(entry):
    for dotted in entry.action_checks:
        module = next((m for m in PENDING_MODULES if dotted == m or dotted.startswith(m + ".")), None)
        if module is not None and importlib.util.find_spec(module) is None:
            continue  # added by another part of this work; checked once it exists
        assert resolve(dotted) is not None, dotted


@pytest.mark.django_db
@pytest.mark.parametrize("entry", RULES, ids=lambda r: r.id)
def test_every_database_guard_exists(entry):
    present = database_names()
    for guard in entry.database_guards:
        kind, name = guard.split(":", 1)
        assert kind in ("constraint", "sqlite", "postgresql"), guard
        if kind in ("constraint", connection.vendor):
            assert name in present, guard


@pytest.mark.parametrize("entry", RULES, ids=lambda r: r.id)
def test_every_test_named_exists(entry):
    for node in entry.tests:
        path, name = node.split("::")
        tree = ast.parse((ROOT / path).read_text())
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in defined, node


def test_the_trigger_messages_name_their_rule():
    """Each message 0003 raises starts with the id of a rule of records/rules.py."""
    import re

    migration = importlib.import_module("records.migrations.0003_safety_invariants")
    source = Path(migration.__file__).read_text()
    messages = set(re.findall(r"RAISE\(ABORT, '((?:[^']|'')*)'\)", source))
    messages |= set(re.findall(r"RAISE EXCEPTION '((?:[^']|'')*)'", source))
    new = {m for m in messages if "signed and locked" not in m}  # 0002's, kept verbatim
    assert len(new) >= 20
    ids = {r.id for r in RULES}
    for message in new:
        assert re.match(r"(R\d)(, R\d)*: ", message), message
        assert set(re.findall(r"R\d", message.split(":")[0])) <= ids, message


def test_the_architecture_page_names_every_rule():
    """docs/architecture.md summarises the table: a rule added here must appear there."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    for each in RULES:
        assert f"| {each.id} |" in page, each.id
