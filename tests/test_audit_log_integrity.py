"""The audit table refuses UPDATE and DELETE, and a failed audit write undoes the change.

The suite runs on SQLite and on PostgreSQL, so each test here proves its point on both.
"""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from records.actions.patients import patient_create
from records.models import AuditEvent, Patient
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(patient):
    return AuditEvent.objects.filter(patient=patient).latest("id")


def test_orm_update_of_an_audit_event_is_refused(event):
    event.reason = "rewritten"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.save()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def test_orm_delete_of_an_audit_event_is_refused(event):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_raw_sql_update_and_delete_are_refused(event):
    table = AuditEvent._meta.db_table
    for sql in (f"UPDATE {table} SET reason = 'x' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only")
def test_truncate_is_refused_on_postgresql(event):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {AuditEvent._meta.db_table} CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def _refuse_audit_inserts(cursor):
    """Make every audit insert fail, as a full disk or a broken constraint would."""
    table = AuditEvent._meta.db_table
    if connection.vendor == "postgresql":
        cursor.execute(
            "CREATE FUNCTION test_refuse_audit() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'audit write failed' USING ERRCODE = 'restrict_violation'; END; $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER test_refuse_audit BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()"
        )
    else:
        cursor.execute(
            f"CREATE TRIGGER test_refuse_audit BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'audit write failed'); END"
        )


def test_change_is_rolled_back_when_its_audit_write_fails(nurse):
    before = AuditEvent.objects.count()
    with transaction.atomic():
        with connection.cursor() as cursor:
            _refuse_audit_inserts(cursor)
        with pytest.raises(IntegrityError, match="audit write failed"):
            patient_create(
                actor=actor_for(nurse),
                mrn="ROLLBACK-1",
                family_name="Never",
                given_name="Saved",
                date_of_birth=date(1970, 1, 1),
                sex="male",
                allergies="No known allergies",
            )
        assert not Patient.objects.filter(mrn="ROLLBACK-1").exists()
        transaction.set_rollback(True)  # drop the test trigger
    assert AuditEvent.objects.count() == before
