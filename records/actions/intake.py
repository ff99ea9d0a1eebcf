"""The physician's candidacy (intake) assessment: recorded, revised, never scored."""

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.actions.context import ActionRefused, Actor
from records.audit import audit_record, diff_fields
from records.models import AuditAction, IntakeAssessment, IntakeRevision, Patient
from records.models.intake import BASELINE_DAYS_MAX
from records.permissions import require

INTAKE_FIELDS = ("diagnosis", "baseline_headache_days", "preventive_treatments", "relevant_history", "notes")
MAX_TREATMENTS = 30


class IntakeValues(TypedDict):
    """An assessment's fields, cleaned."""

    diagnosis: str
    baseline_headache_days: int
    preventive_treatments: list[dict[str, str]]  # [{"name": ..., "why_stopped": ...}]
    relevant_history: str
    notes: str


def preventives_text(treatments: Sequence[Mapping[str, str]]) -> str:
    """One line per treatment, for the audit log's before/after and for print."""
    return "; ".join(
        f"{t['name']} (stopped: {t['why_stopped']})" if t.get("why_stopped") else t["name"] for t in treatments
    )


def _clean(
    *,
    diagnosis: str,
    baseline_headache_days: int,
    preventive_treatments: Sequence[Mapping[str, object]],
    relevant_history: str,
    notes: str,
) -> IntakeValues:
    errors: dict[str, str] = {}
    diagnosis = " ".join(diagnosis.split())
    if not diagnosis:
        errors["diagnosis"] = "Enter the diagnosis as you would write it, e.g. chronic migraine."
    elif len(diagnosis) > 200:
        errors["diagnosis"] = "Diagnosis: at most 200 characters."
    if baseline_headache_days is None or not 0 <= baseline_headache_days <= BASELINE_DAYS_MAX:
        errors["baseline_headache_days"] = (
            f"Baseline headache days per month: a whole number from 0 to {BASELINE_DAYS_MAX}."
        )
    treatments = []
    for item in preventive_treatments or []:
        name = " ".join(str(item.get("name", "")).split())
        why = " ".join(str(item.get("why_stopped", "")).split())
        if not name and not why:
            continue
        if not name:
            errors["preventive_treatments"] = "Each preventive treatment needs its name."
            break
        if len(name) > 120 or len(why) > 300:
            errors["preventive_treatments"] = "Preventive treatments: name up to 120, reason up to 300 characters."
            break
        treatments.append({"name": name, "why_stopped": why})
    if len(treatments) > MAX_TREATMENTS:
        errors["preventive_treatments"] = f"At most {MAX_TREATMENTS} preventive treatments."
    if errors:
        raise ValidationError(errors)
    return {
        "diagnosis": diagnosis,
        "baseline_headache_days": baseline_headache_days,
        "preventive_treatments": treatments,
        "relevant_history": relevant_history.strip(),
        "notes": notes.strip(),
    }


def _audit_values(values: Mapping[str, Any]) -> dict[str, object]:
    return {**values, "preventive_treatments": preventives_text(values["preventive_treatments"])}


def _snapshot(*, intake: IntakeAssessment, actor: Actor, reason: str) -> IntakeRevision:
    return IntakeRevision.objects.create(
        intake=intake,
        version=intake.version,
        author=actor.person,
        author_name=actor.person.printed_name,
        recorded_at=intake.updated_at,
        change_reason=reason,
        **{f: getattr(intake, f) for f in INTAKE_FIELDS},
    )


def _require_physician(actor: Actor, permission: str) -> None:
    # A person's assessment: a set-up command cannot author one without a user.
    if actor.user is None:
        raise ActionRefused("An intake assessment is recorded by a physician.")
    require(actor.user, permission, "Only a physician records the intake assessment.")


@transaction.atomic
def intake_record(
    *,
    actor: Actor,
    patient: Patient,
    diagnosis: str,
    baseline_headache_days: int,
    preventive_treatments: Sequence[Mapping[str, object]],
    relevant_history: str = "",
    notes: str = "",
) -> IntakeAssessment:
    """Record a patient's first intake assessment. Physicians; the patient must be active and have none yet."""
    _require_physician(actor, "add_intakeassessment")
    patient = Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
    if not patient.is_active:
        raise ActionRefused("This patient is deactivated; reactivate the record first.")
    if IntakeAssessment.objects.filter(patient=patient).exists():
        raise ActionRefused("This patient already has an intake assessment; revise it instead.")
    values = _clean(
        diagnosis=diagnosis,
        baseline_headache_days=baseline_headache_days,
        preventive_treatments=preventive_treatments,
        relevant_history=relevant_history,
        notes=notes,
    )
    now = timezone.now()
    try:
        with transaction.atomic():
            intake = IntakeAssessment.objects.create(
                patient=patient,
                assessed_by=actor.person,
                assessed_at=now,
                updated_by=actor.person,
                updated_at=now,
                **values,
            )
    except IntegrityError:
        raise ActionRefused("This patient already has an intake assessment; revise it instead.") from None
    _snapshot(intake=intake, actor=actor, reason="")
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=patient,
        record=intake,
        changes=diff_fields({}, _audit_values(values)),
    )
    return intake


@transaction.atomic
def intake_update(
    *,
    actor: Actor,
    intake: IntakeAssessment,
    expected_version: int,
    reason: str,
    diagnosis: str,
    baseline_headache_days: int,
    preventive_treatments: Sequence[Mapping[str, object]],
    relevant_history: str = "",
    notes: str = "",
) -> IntakeAssessment:
    """Revise an intake assessment; the earlier version is kept. Physicians, with a reason.

    `expected_version` is the version the physician started from: if someone else
    saved in between, the change is refused rather than overwriting theirs.
    """
    _require_physician(actor, "change_intakeassessment")
    current = IntakeAssessment.objects.select_for_update(no_key=True).select_related("patient").get(pk=intake.pk)
    if not current.patient.is_active:
        raise ActionRefused("This patient is deactivated; reactivate the record first.")
    if current.version != expected_version:
        raise ActionRefused(
            "Someone else revised this intake assessment while you were editing. "
            "Your changes were not saved; reload the page to see theirs."
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for revising the assessment."})
    values = _clean(
        diagnosis=diagnosis,
        baseline_headache_days=baseline_headache_days,
        preventive_treatments=preventive_treatments,
        relevant_history=relevant_history,
        notes=notes,
    )
    before = {f: getattr(current, f) for f in INTAKE_FIELDS}
    changes = diff_fields(_audit_values(before), _audit_values(values))
    if not changes:
        raise ActionRefused("Nothing was changed, so no new version was saved.")
    for name, value in values.items():
        setattr(current, name, value)
    current.version += 1
    current.updated_by = actor.person
    current.updated_at = timezone.now()
    current.save()
    _snapshot(intake=current, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        patient=current.patient,
        record=current,
        changes=changes,
        reason=reason,
    )
    return current
