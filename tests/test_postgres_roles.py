"""PostgreSQL role separation: the application role appends to the audit log and nothing more.

The test creates a throwaway application role inside the test's transaction (roles
are transactional in PostgreSQL, so it disappears with the rollback), applies the
same deploy/postgres/grants.sql that `make pg-roles` runs, and acts as that role.
"""

import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from records.actions.context import Actor
from records.audit import audit_record
from records.models import AuditAction, AuditEvent, AuditVerification
from tests.dbtools import as_owner

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Role separation is a PostgreSQL feature"),
]

GRANTS = Path(settings.BASE_DIR) / "deploy" / "postgres" / "grants.sql"


@pytest.fixture
def as_app_role(patient):
    """Run statements as a fresh application role with the deployment's grants."""
    role = f"clinic_app_test_{uuid.uuid4().hex[:12]}"
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        cursor.execute(f"SET clinic.app_role = '{role}'")
        cursor.execute(GRANTS.read_text())

    def attempt(sql: str):
        """Run sql as the application role; return the error PostgreSQL raised, if any."""
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f'SET LOCAL ROLE "{role}"')
                cursor.execute(sql)
                cursor.execute("RESET ROLE")
        except DatabaseError as exc:
            return exc
        return None

    return attempt


AUDIT = AuditEvent._meta.db_table
RUNS = AuditVerification._meta.db_table


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {AUDIT} SET reason = 'rewritten'",
        f"DELETE FROM {AUDIT}",
        f"TRUNCATE {AUDIT}",
        f"DROP TRIGGER {AUDIT}_no_change ON {AUDIT}",
        f"ALTER TABLE {AUDIT} DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        f"UPDATE {RUNS} SET problem = ''",
        f"DELETE FROM {RUNS}",
        f"TRUNCATE {RUNS}",
        f"DROP TRIGGER {RUNS}_no_change ON {RUNS}",
    ],
)
def test_application_role_cannot_change_or_unprotect_the_audit_tables(as_app_role, sql):
    before = AuditEvent.objects.count()
    error = as_app_role(sql)
    assert error is not None
    assert "permission denied" in str(error) or "must be owner" in str(error)
    assert AuditEvent.objects.count() == before


def test_application_role_reads_and_appends(as_app_role):
    assert as_app_role(f"SELECT count(*) FROM {AUDIT}") is None
    # The whole audit writer, lock and sequence included, works as the application role.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('clinic.app_role')")
        (role,) = cursor.fetchone()
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        event = audit_record(actor=Actor.system("tests"), action=AuditAction.SEARCH, record_type="patient")
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (role,)
        cursor.execute("RESET ROLE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_application_role_may_still_change_clinical_tables(as_app_role, patient):
    assert as_app_role(f"UPDATE records_patient SET phone = '555' WHERE id = {patient.pk}") is None


def test_application_role_may_revise_an_intake_assessment(as_app_role, patient, physician):
    """The intake's trigger refuses only its DELETE: the role must be able to UPDATE it (a revision)."""
    from records.actions.intake import intake_record, intake_update
    from tests.conftest import actor_for

    actor = actor_for(physician)
    intake = intake_record(
        actor=actor, patient=patient, diagnosis="Chronic migraine", baseline_headache_days=18, preventive_treatments=[]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('clinic.app_role')")
        (role,) = cursor.fetchone()
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        intake_update(
            actor=actor,
            intake=intake,
            expected_version=intake.version,
            reason="Aura reported",
            diagnosis="Chronic migraine with aura",
            baseline_headache_days=18,
            relevant_history="",
            notes="",
            preventive_treatments=[],
        )
        cursor.execute("RESET ROLE")
    assert as_app_role(f"DELETE FROM records_intakeassessment WHERE id = {intake.pk}") is not None


def _lists_in_grants() -> dict[str, set[str]]:
    text = GRANTS.read_text()
    lists = {}
    for name in ("read_only", "append_only", "sign_in_state"):
        body = re.search(rf"{name} text\[\] := ARRAY\[(.*?)\];", text, re.S).group(1)
        lists[name] = set(re.findall(r"'([a-z_]+)'", body))
    return lists


def table_privileges(role: str) -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, p FROM pg_tables, unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) AS p "
            "WHERE schemaname = 'public' AND has_table_privilege(%s, format('%%I', tablename), p)",
            [role],
        )
        granted: dict[str, set[str]] = {}
        for table, privilege in cursor.fetchall():
            granted.setdefault(table, set()).add(privilege)
    return granted


def test_every_table_gets_what_its_list_says(as_app_role):
    """Every table the models make is in one of grants.sql's lists, or a records_ table (never deleted)."""
    from django.apps import apps

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('clinic.app_role')")
        (role,) = cursor.fetchone()
    lists = _lists_in_grants()
    granted = table_privileges(role)
    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)} | {"django_migrations"}
    for table in sorted(tables):
        if table in lists["read_only"]:
            expected = {"SELECT"}
        elif table in lists["append_only"]:
            expected = {"SELECT", "INSERT"}
        elif table in lists["sign_in_state"]:
            expected = {"SELECT", "INSERT", "UPDATE", "DELETE"}
        else:
            assert table.startswith("records_"), f"{table} is in none of grants.sql's lists"
            expected = {"SELECT", "INSERT", "UPDATE"}
        assert granted.get(table, set()) == expected, table
