"""Patient-reported outcomes, recorded exactly as the patient reported them."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records.actions.context import ActionRefused, Actor
from records.audit import audit_record, diff_fields
from records.models import AuditAction, OutcomeReport, Patient, Session
from records.models.outcomes import HEADACHE_DAYS_MAX, HIT6_RANGE, MIDAS_RANGE
from records.permissions import require


def _check_score(
    errors: dict[str, str],
    *,
    name: str,
    label: str,
    total: int | None,
    completed_on: date | None,
    bounds: tuple[int, int],
    reported_on: date | None,
) -> None:
    low, high = bounds
    if total is None and completed_on is None:
        return
    if total is None:
        errors[f"{name}_total"] = f"Enter the {label} total, or leave its date empty."
    elif not low <= total <= high:
        errors[f"{name}_total"] = f"{label} total: a whole number from {low} to {high}."
    if completed_on is None:
        errors[f"{name}_completed_on"] = f"Enter the date the {label} was completed."
    elif completed_on > timezone.localdate():
        errors[f"{name}_completed_on"] = f"The {label} date cannot be in the future."
    elif reported_on and completed_on > reported_on:
        errors[f"{name}_completed_on"] = f"The {label} date cannot be after the day of the report."


@transaction.atomic
def outcome_record(
    *,
    actor: Actor,
    patient: Patient,
    reported_on: date,
    headache_days: int,
    midas_total: int | None = None,
    midas_completed_on: date | None = None,
    hit6_total: int | None = None,
    hit6_completed_on: date | None = None,
    note: str = "",
    session: Session | None = None,
) -> OutcomeReport:
    """Record patient-reported outcomes, at one of the patient's sessions or between sessions.

    Nurses and physicians; the patient must be active.
    """
    if actor.user is None:
        raise ActionRefused("Outcomes are recorded by a nurse or physician.")
    require(actor.user, "add_outcomereport", "Your role does not record patient outcomes.")
    patient = Patient.objects.get(pk=patient.pk)
    if not patient.is_active:
        raise ActionRefused("This patient is deactivated; reactivate the record first.")
    errors: dict[str, str] = {}
    if reported_on is None:
        errors["reported_on"] = "Enter the day the patient reported these outcomes."
    elif reported_on > timezone.localdate():
        errors["reported_on"] = "The report date cannot be in the future."
    if headache_days is None or not 0 <= headache_days <= HEADACHE_DAYS_MAX:
        errors["headache_days"] = f"Headache days in the last 30 days: a whole number from 0 to {HEADACHE_DAYS_MAX}."
    _check_score(
        errors,
        name="midas",
        label="MIDAS",
        total=midas_total,
        completed_on=midas_completed_on,
        bounds=MIDAS_RANGE,
        reported_on=reported_on,
    )
    _check_score(
        errors,
        name="hit6",
        label="HIT-6",
        total=hit6_total,
        completed_on=hit6_completed_on,
        bounds=HIT6_RANGE,
        reported_on=reported_on,
    )
    if session is not None and session.patient_id != patient.pk:
        errors["session"] = "Choose one of this patient's sessions, or none."
    note = note.strip()
    if len(note) > 500:
        errors["note"] = "Note: at most 500 characters."
    if errors:
        raise ValidationError(errors)
    values = {
        "reported_on": reported_on,
        "headache_days": headache_days,
        "midas_total": midas_total,
        "midas_completed_on": midas_completed_on,
        "hit6_total": hit6_total,
        "hit6_completed_on": hit6_completed_on,
        "note": note,
    }
    report = OutcomeReport.objects.create(
        patient=patient, session=session, recorded_by=actor.person, recorded_at=timezone.now(), **values
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=patient,
        record=report,
        changes=diff_fields({}, {**values, "session": session.pk if session else None}),
    )
    return report
