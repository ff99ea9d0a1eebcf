"""The migration history stays linear and matches the models (see also .ci/check-migrations)."""

import pytest
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader


@pytest.fixture(scope="module")
def graph():
    return MigrationLoader(None, ignore_no_migrations=True).graph


def test_records_has_exactly_one_leaf_migration(graph):
    leaves = [name for app, name in graph.leaf_nodes("records") if app == "records"]
    assert len(leaves) == 1, (
        f"records has {len(leaves)} leaf migrations {sorted(leaves)}: renumber yours on top of the other "
        "branch's latest migration; do not write a merge migration."
    )


def test_records_has_no_merge_migration(graph):
    merges = sorted(
        name
        for (app, name), node in graph.node_map.items()
        if app == "records" and len([parent for parent in node.parents if parent.key[0] == "records"]) > 1
    )
    assert merges == [], f"Merge migrations in records: {merges}. Keep the history linear: renumber instead."


@pytest.mark.django_db
def test_models_need_no_new_migration(capsys):
    try:
        call_command("makemigrations", check=True, dry_run=True, verbosity=1)
    except SystemExit:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"The models have changes without a migration:\n{capsys.readouterr().out}")
    assert "No changes detected" in capsys.readouterr().out
