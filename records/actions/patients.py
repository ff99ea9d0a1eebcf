from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.actions.context import ActionRefused, Actor
from records.audit import audit_record, diff_fields
from records.models import AuditAction, Patient
from records.permissions import require

DEMOGRAPHIC_FIELDS = (
    "mrn",
    "family_name",
    "given_name",
    "date_of_birth",
    "sex",
    "allergies",
    "phone",
    "email",
    "address",
    "emergency_contact",
)


def _check_invariants(*, mrn: str, date_of_birth: date, exclude_pk: int | None = None) -> None:
    errors = {}
    if date_of_birth > timezone.localdate():
        errors["date_of_birth"] = "Date of birth cannot be in the future."
    clash = Patient.objects.filter(mrn__iexact=mrn)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        errors["mrn"] = f"MRN {mrn} already belongs to another patient."
    if errors:
        raise ValidationError(errors)


def _require_actor(actor: Actor, permission: str) -> None:
    if not actor.is_system:
        require(actor.user, permission)


@transaction.atomic
def patient_create(
    *,
    actor: Actor,
    mrn: str,
    family_name: str,
    given_name: str,
    date_of_birth: date,
    sex: str,
    allergies: str,
    phone: str = "",
    email: str = "",
    address: str = "",
    emergency_contact: str = "",
) -> Patient:
    """Register a patient. Nurses and physicians may call it."""
    _require_actor(actor, "add_patient")
    _check_invariants(mrn=mrn, date_of_birth=date_of_birth)
    patient = Patient(
        mrn=mrn,
        family_name=family_name,
        given_name=given_name,
        date_of_birth=date_of_birth,
        sex=sex,
        allergies=allergies,
        phone=phone,
        email=email,
        address=address,
        emergency_contact=emergency_contact,
    )
    patient.full_clean()
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:
        raise ValidationError({"mrn": f"MRN {mrn} already belongs to another patient."}) from None
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=patient,
        record=patient,
        changes=diff_fields({}, {f: getattr(patient, f) for f in DEMOGRAPHIC_FIELDS}),
    )
    return patient


@transaction.atomic
def patient_update(*, actor: Actor, patient: Patient, expected_version: int, **fields: str | date) -> Patient:
    """Change a patient's demographics. Nurses and physicians; the patient must be active.

    `expected_version` is the version the editor started from: if someone else
    saved in between, the change is refused rather than overwriting theirs.
    """
    _require_actor(actor, "change_patient")
    unknown = set(fields) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise TypeError(f"Not a demographic field: {sorted(unknown)}")
    current = Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
    if not current.is_active:
        raise ActionRefused("This patient is deactivated; reactivate the record before changing it.")
    if current.version != expected_version:
        raise ActionRefused(
            "Someone else changed this patient's details while you were editing. "
            "Your changes were not saved; reload the page to see theirs."
        )
    before = {f: getattr(current, f) for f in DEMOGRAPHIC_FIELDS}
    after = {**before, **fields}
    _check_invariants(mrn=after["mrn"], date_of_birth=after["date_of_birth"], exclude_pk=current.pk)
    changes = diff_fields(before, after)
    if not changes:
        return current
    for name, value in fields.items():
        setattr(current, name, value)
    current.version += 1
    current.full_clean()
    current.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, patient=current, record=current, changes=changes)
    return current


@transaction.atomic
def patient_deactivate(*, actor: Actor, patient: Patient, reason: str) -> Patient:
    """Deactivate a patient record (never deleted). Nurses and physicians; a reason is required."""
    return _set_active(actor=actor, patient=patient, active=False, reason=reason)


@transaction.atomic
def patient_reactivate(*, actor: Actor, patient: Patient, reason: str) -> Patient:
    """Reactivate a deactivated patient. Nurses and physicians; a reason is required."""
    return _set_active(actor=actor, patient=patient, active=True, reason=reason)


def _set_active(*, actor: Actor, patient: Patient, active: bool, reason: str) -> Patient:
    _require_actor(actor, "deactivate_patient")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for this change."})
    current = Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
    if current.is_active == active:
        raise ActionRefused("This patient is already " + ("active." if active else "deactivated."))
    current.is_active = active
    current.version += 1
    current.save(update_fields=["is_active", "version", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.REACTIVATE if active else AuditAction.DEACTIVATE,
        patient=current,
        record=current,
        changes={"is_active": [not active, active]},
        reason=reason,
    )
    return current


@transaction.atomic
def patient_view(*, actor: Actor, patient: Patient, what: str = "patient page") -> None:
    """Record that the actor opened a patient's record. Anyone allowed to read patients."""
    _require_actor(actor, "view_patient")
    audit_record(actor=actor, action=AuditAction.VIEW, patient=patient, record=patient, reason=what)


@transaction.atomic
def patient_search_record(*, actor: Actor, query: str, result_count: int) -> None:
    """Record a patient search: the result list shows names, MRNs and dates of birth."""
    _require_actor(actor, "view_patient")
    audit_record(
        actor=actor,
        action=AuditAction.SEARCH,
        record_type="patient",
        changes={"query": [None, query], "results": [None, result_count]},
    )
