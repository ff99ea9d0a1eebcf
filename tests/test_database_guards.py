"""Every protection the database itself holds, listed by name, on SQLite and PostgreSQL.

The triggers are frozen SQL in the migrations; these tests read the database's
own catalog, so a trigger or constraint that a migration drops, renames or
forgets fails here, whatever the migration files say. What each trigger
refuses is proved by the tests of the rule it serves (test_signed_session_lock,
test_audit_log_integrity, ...).
"""

import re

import pytest
from django.apps import apps
from django.db import connection, models

pytestmark = pytest.mark.django_db

APPEND_ONLY = ["records_auditevent", "records_auditverification", "records_intakerevision", "records_outcomereport"]
LOCKED_WITH_SESSION = [
    "records_vitalsreading",
    "records_screening",
    "records_administration",
    "records_administrationevent",
    "records_sideeffect",
    "records_discharge",
    "records_order",
    # Monitor readings offered to a session: their acceptance or rejection is part of the chart.
    "records_devicereading",
    # 0007: the monitoring protocol a session took at its first start, and why a checkpoint was missed.
    "records_sessionprotocol",
    "records_checkpointmiss",
    # 0008: a physician's decision to discharge before the criteria are met.
    "records_dischargeoverride",
]
# 0008: the REMS monitoring form is completed after discharge (often after signing): not locked with the
# session, but insert-only except its submission, set once; never deleted.
AFTER_SIGNING_KEPT = ["records_remsmonitoringform"]

# Clinical values are insert-only (0003, rules R2 and R3 of records/rules.py): every clinical table,
# the sessions and the patients are never deleted; only documented columns are set, once.
KEPT = [*LOCKED_WITH_SESSION, "records_session"]
NEVER_DELETED = [*KEPT, "records_patient"]

SQLITE_TRIGGERS = {
    *(f"{table}_no_{event}" for table in [*APPEND_ONLY, "records_addendum"] for event in ("update", "delete")),
    "records_intakeassessment_no_delete",
    *(f"{table}_locked_{event}" for table in LOCKED_WITH_SESSION for event in ("insert", "update", "delete")),
    "records_session_signed_frozen",
    "records_session_signed_no_delete",
    # 0003
    *(f"{table}_kept" for table in KEPT),
    *(f"{table}_never_deleted" for table in NEVER_DELETED),
    "records_screening_inserted_undecided",
    "records_screening_bp_of_its_session",
    "records_screening_cleared_below_threshold",
    "records_administration_same_session",
    "records_administration_inserted_running",
    "records_administration_screening_allows",
    "records_administrationevent_same_session",
    "records_session_steps",
    "records_session_step_evidence",
    # 0007: a protocol version is never changed, and never deleted once a session took it.
    "records_protocolversion_kept",
    "records_protocolversion_used_not_deleted",
    *(f"{table}_{kind}" for table in AFTER_SIGNING_KEPT for kind in ("kept", "never_deleted")),
}
POSTGRESQL_TRIGGERS = {
    *(f"{table}_no_{kind}" for table in [*APPEND_ONLY, "records_addendum"] for kind in ("change", "truncate")),
    "records_intakeassessment_no_change",  # DELETE only: an intake is revised, never deleted
    "records_intakeassessment_no_truncate",
    *(f"{table}_locked" for table in LOCKED_WITH_SESSION),
    "records_session_signed_frozen",
    # 0003: one trigger per table for INSERT, UPDATE and DELETE, and TRUNCATE refused
    *(f"{table}_kept" for table in KEPT),
    "records_patient_never_deleted",
    *(f"{table}_no_truncate" for table in NEVER_DELETED),
    # 0007: a protocol version is never changed, and never deleted once a session took it.
    "records_protocolversion_kept",
    *(f"{table}_{kind}" for table in AFTER_SIGNING_KEPT for kind in ("kept", "no_truncate")),
}


def database_triggers() -> dict[str, str]:
    """{trigger name: its definition} as the database reports them."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT t.tgname, pg_get_triggerdef(t.oid) || ' ' || pg_get_functiondef(t.tgfoid) "
                "FROM pg_trigger t WHERE NOT t.tgisinternal"
            )
        return dict(cursor.fetchall())


def test_every_trigger_is_installed():
    expected = SQLITE_TRIGGERS if connection.vendor == "sqlite" else POSTGRESQL_TRIGGERS
    assert set(database_triggers()) == expected


def test_every_table_with_a_session_is_locked_when_signed():
    """A new clinical table that belongs to a session must get the signed-session lock."""
    with_session = {
        model._meta.db_table
        for model in apps.get_app_config("records").get_models()
        if any(f.name == "session" for f in model._meta.concrete_fields)
    }
    # Addenda come after signing by design; patient-reported outcomes may name the session they were
    # reported at, are append-only themselves and are not part of the nurse's chart.
    assert with_session - {"records_addendum", "records_outcomereport", *AFTER_SIGNING_KEPT} == set(LOCKED_WITH_SESSION)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite compares the frozen columns one by one")
@pytest.mark.parametrize(
    ("trigger", "model_name", "mutable"),
    [
        (
            "records_session_signed_frozen",
            "session",
            {"status", "cosigned_by_id", "cosigned_at", "cosigned_name"},
        ),
        # 0002 predates the order form's key; 0003's records_order_kept freezes it, signed or not.
        ("records_order_locked_update", "order", {"cosigned_by_id", "cosigned_at", "submission_key"}),
        # 0003: insert-only from the moment they are written (PostgreSQL compares whole rows, to_jsonb).
        ("records_vitalsreading_kept", "vitalsreading", set()),
        ("records_screening_kept", "screening", set()),
        ("records_order_kept", "order", set()),
        ("records_administration_kept", "administration", set()),
        ("records_sideeffect_kept", "sideeffect", set()),
        ("records_session_kept", "session", {"status"}),  # status: records_session_steps
        ("records_devicereading_kept", "devicereading", set()),
        ("records_remsmonitoringform_kept", "remsmonitoringform", {"submitted_on", "submitted_by_id", "submitted_at"}),
    ],
)
def test_sqlite_freeze_names_every_column(trigger, model_name, mutable):
    """A column added to the model without a new trigger would be left unfrozen (after signing, or at all)."""
    sql = database_triggers()[trigger]
    compared = set(re.findall(r"NEW\.(\w+) IS NOT OLD\.\1", sql))
    model = apps.get_model("records", model_name)
    assert {f.column for f in model._meta.concrete_fields} - mutable <= compared


def test_every_model_constraint_exists_in_the_database():
    """Each CheckConstraint and UniqueConstraint the models declare is in the database's catalog."""
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_app_config("records").get_models():
            names = set(connection.introspection.get_constraints(cursor, model._meta.db_table))
            for constraint in model._meta.constraints:
                declared = isinstance(constraint, models.CheckConstraint | models.UniqueConstraint)
                if declared and constraint.name not in names:
                    missing.append(f"{model._meta.db_table}.{constraint.name}")
    assert missing == []
    assert sum(len(m._meta.constraints) for m in apps.get_app_config("records").get_models()) >= 40


def test_role_groups_hold_exactly_the_permission_table():
    from django.contrib.auth.models import Group

    from records.permissions import ROLE_PERMISSIONS

    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role.value)
        assert set(group.permissions.values_list("codename", flat=True)) == set(codenames)
