"""After the nurse signs, the database itself refuses changes to the session's clinical rows."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from records.actions.sessions import addendum_add, session_cosign
from records.models import Addendum, AuditEvent, Order, Session, SideEffect, VitalsReading
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(sessions, patient):
    return sessions.to(patient, "signed")


def test_orm_insert_of_a_reading_after_signing_fails(signed, nurse):
    with pytest.raises(IntegrityError, match="signed and locked"), transaction.atomic():
        VitalsReading.objects.create(
            session=signed,
            measured_at=timezone.now(),
            entered_at=timezone.now(),
            entered_by=nurse,
            phase="post",
            heart_rate=70,
        )
    assert signed.readings.count() == 3


def test_raw_sql_insert_of_a_reading_after_signing_fails(signed, nurse):
    table = VitalsReading._meta.db_table
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (session_id, measured_at, entered_at, entered_by_id, phase, heart_rate, "
            "dissociation, note, entered_in_error_reason) VALUES (%s, %s, %s, %s, 'post', 70, '', '', '')",
            [signed.pk, now, now, nurse.pk],
        )
    assert signed.readings.count() == 3


def test_raw_sql_insert_works_before_signing(sessions, patient, nurse):
    """The same statement succeeds on an unsigned session: the trigger, not the SQL, refuses above."""
    session = sessions.to(patient, "arrived")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {VitalsReading._meta.db_table} (session_id, measured_at, entered_at, entered_by_id, "
            "phase, heart_rate, dissociation, note, entered_in_error_reason) "
            "VALUES (%s, %s, %s, %s, 'post', 70, '', '', '')",
            [session.pk, now, now, nurse.pk],
        )
    assert session.readings.count() == 1


def test_update_and_delete_of_locked_rows_fail(signed):
    reading = signed.readings.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        VitalsReading.objects.filter(pk=reading.pk).update(heart_rate=199)
    with pytest.raises(IntegrityError), transaction.atomic():
        VitalsReading.objects.filter(pk=reading.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        signed.orders.update(dose_value="5")
    with pytest.raises(IntegrityError), transaction.atomic():
        SideEffect.objects.create(
            session=signed,
            kind="dizziness",
            severity="mild",
            onset_at=timezone.now(),
            action_taken="none",
            recorded_by=signed.signed_by,
            recorded_at=timezone.now(),
        )
    reading.refresh_from_db()
    assert reading.heart_rate != 199


def test_signed_session_row_frozen_except_cosignature(signed, physician):
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=signed.pk).update(chair="Chair 9")
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=signed.pk).update(status="in_progress", signed_at=None, signed_by=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=signed.pk).delete()
    session_cosign(actor=actor_for(physician), session=signed)
    signed.refresh_from_db()
    assert signed.status == "cosigned"
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=signed.pk).update(cosigned_name="Someone else")
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=signed.pk).update(cosigned_at=timezone.now())


def test_addenda_are_append_only(signed, nurse):
    addendum = addendum_add(actor=actor_for(nurse), session=signed, text="Called patient", reason="Follow-up")
    with pytest.raises(IntegrityError), transaction.atomic():
        Addendum.objects.filter(pk=addendum.pk).update(text="Changed")
    with pytest.raises(IntegrityError), transaction.atomic():
        Addendum.objects.filter(pk=addendum.pk).delete()


def test_verbal_order_cosigned_after_session_signing_but_nothing_else(sessions, patient, nurse, physician, make_user):
    from records.actions.context import ActionRefused
    from records.actions.medications import order_cosign
    from records.actions.sessions import session_cancel, session_sign

    session = sessions.to(patient, "cleared")
    order = sessions.order(session, received_as="telephone", read_back_confirmed=True)
    session_cancel(actor=actor_for(nurse), session=session, reason="Patient unwell; rebooked")
    session_sign(actor=actor_for(nurse), session=session)

    with pytest.raises(ActionRefused, match="only the physician who gave the order"):
        order_cosign(actor=actor_for(make_user("physician")), order=order)
    order_cosign(actor=actor_for(physician), order=order)
    order.refresh_from_db()
    assert order.cosigned_by == physician
    assert AuditEvent.objects.filter(action="cosign", record_type="order").count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(dose_value="5")
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(cosigned_at=timezone.now())
    with pytest.raises(ActionRefused, match="already co-signed"):
        order_cosign(actor=actor_for(physician), order=order)
