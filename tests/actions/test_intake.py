import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from records.actions.context import ActionRefused
from records.actions.intake import intake_record, intake_update
from records.actions.patients import patient_deactivate
from records.models import AuditEvent, IntakeAssessment, IntakeRevision
from tests.conftest import actor_for
from tests.dbtools import as_owner

pytestmark = pytest.mark.django_db

FIRST = {
    "diagnosis": "Chronic migraine without aura",
    "baseline_headache_days": 18,
    "preventive_treatments": [
        {"name": "Topiramate", "why_stopped": "Word-finding difficulty"},
        {"name": "Propranolol", "why_stopped": "No benefit after 3 months"},
        {"name": "", "why_stopped": ""},  # an empty row of the form is not a treatment
    ],
    "relevant_history": "Medication-overuse headache 2023, resolved.",
    "notes": "Candidate for IV course; discussed off-label use.",
}


def test_physician_records_the_intake_and_it_is_audited(physician, patient):
    intake = intake_record(actor=actor_for(physician), patient=patient, **FIRST)

    intake.refresh_from_db()
    assert intake.baseline_headache_days == 18
    assert intake.preventive_treatments == [
        {"name": "Topiramate", "why_stopped": "Word-finding difficulty"},
        {"name": "Propranolol", "why_stopped": "No benefit after 3 months"},
    ]
    assert intake.assessed_by == physician
    assert intake.version == 1
    revision = IntakeRevision.objects.get(intake=intake)
    assert (revision.version, revision.author_name) == (1, "Omar Haddad")
    event = AuditEvent.objects.get(action="create", record_type="intakeassessment")
    assert event.patient == patient
    assert event.actor == physician
    assert event.changes["diagnosis"] == [None, "Chronic migraine without aura"]
    assert event.changes["preventive_treatments"] == [
        None,
        "Topiramate (stopped: Word-finding difficulty); Propranolol (stopped: No benefit after 3 months)",
    ]


def test_nurse_and_admin_may_not_record_or_revise_the_intake(nurse, admin_user, physician, patient):
    for user in (nurse, admin_user):
        with pytest.raises(PermissionDenied):
            intake_record(actor=actor_for(user), patient=patient, **FIRST)
    assert not IntakeAssessment.objects.exists()
    intake = intake_record(actor=actor_for(physician), patient=patient, **FIRST)
    with pytest.raises(PermissionDenied):
        intake_update(actor=actor_for(nurse), intake=intake, expected_version=1, reason="typo", **FIRST)


def test_a_second_intake_for_the_same_patient_is_refused(physician, make_user, patient):
    intake_record(actor=actor_for(physician), patient=patient, **FIRST)
    colleague = make_user("physician")
    with pytest.raises(ActionRefused, match="already has an intake"):
        intake_record(actor=actor_for(colleague), patient=patient, **FIRST)
    assert IntakeAssessment.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("baseline_headache_days", 32), ("baseline_headache_days", -1), ("diagnosis", "   ")],
)
def test_out_of_range_or_blank_values_are_refused_with_the_accepted_range(physician, patient, field, value):
    with pytest.raises(ValidationError) as excinfo:
        intake_record(actor=actor_for(physician), patient=patient, **{**FIRST, field: value})
    assert field in excinfo.value.error_dict
    if field == "baseline_headache_days":
        assert "0 to 31" in excinfo.value.error_dict[field][0].message
    assert not IntakeAssessment.objects.exists()


def test_a_treatment_reason_without_its_name_is_refused(physician, patient):
    bad = {**FIRST, "preventive_treatments": [{"name": "", "why_stopped": "Nausea"}]}
    with pytest.raises(ValidationError) as excinfo:
        intake_record(actor=actor_for(physician), patient=patient, **bad)
    assert "preventive_treatments" in excinfo.value.error_dict


def test_revision_keeps_the_earlier_version_and_audits_before_and_after(physician, make_user, patient):
    intake = intake_record(actor=actor_for(physician), patient=patient, **FIRST)
    colleague = make_user("physician", first_name="Lea", last_name="Brandt")
    revised = {
        **FIRST,
        "baseline_headache_days": 20,
        "preventive_treatments": [*FIRST["preventive_treatments"][:2], {"name": "Erenumab", "why_stopped": ""}],
    }

    intake = intake_update(
        actor=actor_for(colleague), intake=intake, expected_version=1, reason="Headache diary reviewed", **revised
    )

    assert intake.version == 2
    assert intake.baseline_headache_days == 20
    assert intake.assessed_by == physician
    assert intake.updated_by == colleague
    versions = {r.version: r for r in IntakeRevision.objects.filter(intake=intake)}
    assert versions[1].baseline_headache_days == 18
    assert len(versions[1].preventive_treatments) == 2
    assert versions[2].baseline_headache_days == 20
    assert versions[2].change_reason == "Headache diary reviewed"
    assert versions[2].author_name == "Lea Brandt"
    event = AuditEvent.objects.get(action="update", record_type="intakeassessment")
    assert event.changes["baseline_headache_days"] == [18, 20]
    assert event.changes["preventive_treatments"][1].endswith("; Erenumab")
    assert "diagnosis" not in event.changes
    assert event.reason == "Headache diary reviewed"


def test_revision_needs_a_reason_and_the_current_version(physician, patient):
    intake = intake_record(actor=actor_for(physician), patient=patient, **FIRST)
    changed = {**FIRST, "notes": "Changed"}
    with pytest.raises(ValidationError) as excinfo:
        intake_update(actor=actor_for(physician), intake=intake, expected_version=1, reason=" ", **changed)
    assert "reason" in excinfo.value.error_dict
    intake_update(actor=actor_for(physician), intake=intake, expected_version=1, reason="Update", **changed)
    with pytest.raises(ActionRefused, match="Someone else revised"):
        intake_update(
            actor=actor_for(physician), intake=intake, expected_version=1, reason="Stale", **{**FIRST, "notes": "x"}
        )
    assert IntakeAssessment.objects.get().notes == "Changed"


def test_a_revision_that_changes_nothing_is_refused(physician, patient):
    intake = intake_record(actor=actor_for(physician), patient=patient, **FIRST)
    with pytest.raises(ActionRefused, match="Nothing was changed"):
        intake_update(actor=actor_for(physician), intake=intake, expected_version=1, reason="Again", **FIRST)
    assert IntakeRevision.objects.count() == 1


def test_no_intake_for_a_deactivated_patient(physician, patient):
    patient_deactivate(actor=actor_for(physician), patient=patient, reason="Moved away")
    with pytest.raises(ActionRefused, match="deactivated"):
        intake_record(actor=actor_for(physician), patient=patient, **FIRST)


def test_the_database_keeps_revisions_and_intakes(physician, patient):
    intake = intake_record(actor=actor_for(physician), patient=patient, **FIRST)
    # The triggers refuse even the owner (the application role has no such grant to begin with).
    with as_owner():
        with pytest.raises(IntegrityError), transaction.atomic():
            IntakeRevision.objects.filter(intake=intake).update(diagnosis="Tension-type headache")
        with pytest.raises(IntegrityError), transaction.atomic():
            IntakeRevision.objects.filter(intake=intake).delete()
        with pytest.raises(IntegrityError), transaction.atomic():
            IntakeAssessment.objects.filter(pk=intake.pk).delete()
    assert IntakeRevision.objects.get(intake=intake).diagnosis == "Chronic migraine without aura"
