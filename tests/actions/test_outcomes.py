from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.actions.context import ActionRefused
from records.actions.outcomes import outcome_record
from records.actions.patients import patient_deactivate
from records.models import AuditEvent, OutcomeReport
from tests.conftest import actor_for
from tests.dbtools import as_owner

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def test_nurse_records_outcomes_with_questionnaires_and_it_is_audited(nurse, patient):
    today = _today()
    report = outcome_record(
        actor=actor_for(nurse),
        patient=patient,
        reported_on=today,
        headache_days=12,
        midas_total=46,
        midas_completed_on=today - timedelta(days=1),
        hit6_total=64,
        hit6_completed_on=today,
    )

    report.refresh_from_db()
    assert (report.headache_days, report.midas_total, report.hit6_total) == (12, 46, 64)
    assert report.recorded_by == nurse
    event = AuditEvent.objects.get(action="create", record_type="outcomereport")
    assert event.patient == patient
    assert event.changes["headache_days"] == [None, 12]
    assert event.changes["hit6_total"] == [None, 64]


def test_physician_records_headache_days_alone(physician, patient):
    report = outcome_record(actor=actor_for(physician), patient=patient, reported_on=_today(), headache_days=0)
    assert report.midas_total is None
    assert report.hit6_total is None


@pytest.mark.parametrize(
    ("fields", "error_field", "message"),
    [
        ({"headache_days": 31}, "headache_days", "0 to 30"),
        ({"headache_days": -1}, "headache_days", "0 to 30"),
        ({"midas_total": 271, "midas_completed_on": "today"}, "midas_total", "0 to 270"),
        ({"hit6_total": 35, "hit6_completed_on": "today"}, "hit6_total", "36 to 78"),
        ({"hit6_total": 79, "hit6_completed_on": "today"}, "hit6_total", "36 to 78"),
        ({"midas_total": 10}, "midas_completed_on", "date"),
        ({"hit6_completed_on": "today"}, "hit6_total", "HIT-6 total"),
        ({"reported_on": "tomorrow"}, "reported_on", "future"),
    ],
)
def test_values_outside_the_real_ranges_are_refused(nurse, patient, fields, error_field, message):
    days = {"today": _today(), "tomorrow": _today() + timedelta(days=1)}
    values = {"reported_on": _today(), "headache_days": 10}
    values.update({k: days.get(v, v) if isinstance(v, str) else v for k, v in fields.items()})
    with pytest.raises(ValidationError) as excinfo:
        outcome_record(actor=actor_for(nurse), patient=patient, **values)
    assert message in excinfo.value.error_dict[error_field][0].message
    assert not OutcomeReport.objects.exists()


def test_admin_may_not_record_outcomes(admin_user, patient):
    with pytest.raises(PermissionDenied):
        outcome_record(actor=actor_for(admin_user), patient=patient, reported_on=_today(), headache_days=4)


def test_no_outcomes_for_a_deactivated_patient(nurse, patient):
    patient_deactivate(actor=actor_for(nurse), patient=patient, reason="Duplicate record")
    with pytest.raises(ActionRefused):
        outcome_record(actor=actor_for(nurse), patient=patient, reported_on=_today(), headache_days=4)


def test_the_database_refuses_impossible_scores_and_changes(nurse, patient):
    report = outcome_record(actor=actor_for(nurse), patient=patient, reported_on=_today(), headache_days=4)
    # The triggers refuse even the owner (the application role has no such grant to begin with).
    with as_owner():
        with pytest.raises(IntegrityError), transaction.atomic():
            OutcomeReport.objects.filter(pk=report.pk).update(headache_days=8)
        with pytest.raises(IntegrityError), transaction.atomic():
            OutcomeReport.objects.filter(pk=report.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeReport.objects.create(
            patient=patient, reported_on=_today(), headache_days=40, recorded_by=nurse, recorded_at=timezone.now()
        )


def test_outcomes_at_another_patients_session_are_refused(nurse, sessions, patient, make_patient):
    elsewhere = sessions.to(make_patient(), "arrived")
    with pytest.raises(ValidationError) as excinfo:
        outcome_record(
            actor=actor_for(nurse), patient=patient, reported_on=_today(), headache_days=3, session=elsewhere
        )
    assert "session" in excinfo.value.error_dict
    own = sessions.to(patient, "arrived")
    report = outcome_record(actor=actor_for(nurse), patient=patient, reported_on=_today(), headache_days=3, session=own)
    assert report.session == own
    assert AuditEvent.objects.get(action="create", record_type="outcomereport").changes["session"] == [None, own.pk]
