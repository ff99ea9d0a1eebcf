from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from records.actions.context import ActionRefused
from records.actions.patients import patient_create, patient_deactivate, patient_reactivate, patient_update
from records.models import AuditEvent, Patient
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db

NEW = {
    "mrn": "A-100",
    "family_name": "Quill",
    "given_name": "Rosa",
    "date_of_birth": date(1984, 5, 6),
    "sex": "female",
    "allergies": "Penicillin (rash)",
}


def test_nurse_registers_a_patient_and_the_creation_is_audited(nurse):
    patient = patient_create(actor=actor_for(nurse), **NEW)

    assert Patient.objects.get(mrn="A-100").given_name == "Rosa"
    event = AuditEvent.objects.get(action="create", record_type="patient")
    assert event.patient == patient
    assert event.actor == nurse
    assert event.actor_role == "nurse"
    assert event.record_id == str(patient.pk)
    assert event.changes["family_name"] == [None, "Quill"]
    assert event.changes["date_of_birth"] == [None, "1984-05-06"]
    assert event.ip_address == "127.0.0.1"


def test_admin_may_not_register_patients(admin_user):
    with pytest.raises(PermissionDenied):
        patient_create(actor=actor_for(admin_user), **NEW)
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.filter(action="create", record_type="patient").exists()


def test_duplicate_mrn_is_refused_case_insensitively(nurse, make_patient):
    make_patient(mrn="A-100")
    with pytest.raises(ValidationError) as excinfo:
        patient_create(actor=actor_for(nurse), **{**NEW, "mrn": "a-100"})
    assert "mrn" in excinfo.value.error_dict
    assert Patient.objects.filter(mrn__iexact="a-100").count() == 1


def test_future_date_of_birth_is_refused(nurse):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        patient_create(actor=actor_for(nurse), **{**NEW, "date_of_birth": tomorrow})
    assert "date_of_birth" in excinfo.value.error_dict
    assert not Patient.objects.exists()


def test_update_records_before_and_after_of_changed_fields_only(nurse, patient):
    updated = patient_update(
        actor=actor_for(nurse),
        patient=patient,
        expected_version=patient.version,
        **{**_demographics(patient), "allergies": "Latex", "phone": "555-0199"},
    )

    assert updated.version == patient.version + 1
    event = AuditEvent.objects.get(action="update")
    assert event.changes == {"allergies": ["No known allergies", "Latex"], "phone": ["", "555-0199"]}
    assert event.patient == patient


def test_update_from_a_stale_version_is_refused_and_nothing_changes(nurse, physician, patient):
    patient_update(
        actor=actor_for(physician),
        patient=patient,
        expected_version=patient.version,
        **{**_demographics(patient), "phone": "555-0001"},
    )
    with pytest.raises(ActionRefused, match="Someone else changed"):
        patient_update(
            actor=actor_for(nurse),
            patient=patient,
            expected_version=patient.version,
            **{**_demographics(patient), "phone": "555-0002"},
        )
    assert Patient.objects.get(pk=patient.pk).phone == "555-0001"
    assert AuditEvent.objects.filter(action="update").count() == 1


def test_update_with_no_change_writes_nothing(nurse, patient):
    patient_update(actor=actor_for(nurse), patient=patient, expected_version=patient.version, **_demographics(patient))
    assert Patient.objects.get(pk=patient.pk).version == patient.version
    assert not AuditEvent.objects.filter(action="update").exists()


def test_deactivate_needs_a_reason_keeps_the_row_and_is_audited(nurse, patient):
    with pytest.raises(ValidationError):
        patient_deactivate(actor=actor_for(nurse), patient=patient, reason="  ")
    assert Patient.objects.get(pk=patient.pk).is_active

    patient_deactivate(actor=actor_for(nurse), patient=patient, reason="Duplicate registration")

    row = Patient.objects.get(pk=patient.pk)
    assert row.is_active is False
    event = AuditEvent.objects.get(action="deactivate")
    assert event.reason == "Duplicate registration"
    assert event.changes == {"is_active": [True, False]}


def test_deactivated_patient_cannot_be_edited_until_reactivated(nurse, patient):
    patient = patient_deactivate(actor=actor_for(nurse), patient=patient, reason="Moved away")
    with pytest.raises(ActionRefused, match="deactivated"):
        patient_update(
            actor=actor_for(nurse),
            patient=patient,
            expected_version=patient.version,
            **{**_demographics(patient), "phone": "1"},
        )
    with pytest.raises(ActionRefused, match="already deactivated"):
        patient_deactivate(actor=actor_for(nurse), patient=patient, reason="again")
    patient = patient_reactivate(actor=actor_for(nurse), patient=patient, reason="Returned to the clinic")
    assert patient.is_active
    assert AuditEvent.objects.filter(action="reactivate", patient=patient).count() == 1


def _demographics(patient):
    from records.actions.patients import DEMOGRAPHIC_FIELDS

    return {f: getattr(patient, f) for f in DEMOGRAPHIC_FIELDS}
