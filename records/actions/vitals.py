"""The vitals flowsheet: record a reading, mark one entered in error."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records import workflow
from records.actions.context import ActionRefused, Actor
from records.actions.sessions import check_past, open_session_for_charting
from records.audit import audit_record, diff_fields
from records.models import AuditAction, Session, VitalsReading
from records.models.vitals import NUMERIC_VITALS
from records.vital_limits import IMPOSSIBLE

READING_FIELDS = (*NUMERIC_VITALS, "dissociation", "note")
# A measurement (a number; a float temperature is stored as its Decimal), or the
# dissociation score's code and the note (text); None where not measured.
VitalValue = int | Decimal | float | str | None
Number = int | Decimal | float


def check_vitals(values: Mapping[str, VitalValue]) -> None:
    """Refuse impossible values with the accepted range; diastolic must be below systolic."""
    errors: dict[str, str] = {}
    for field in NUMERIC_VITALS:
        value = cast(Number | None, values.get(field))
        if value is None:
            continue
        limit = IMPOSSIBLE[field]
        if not (limit.low <= value <= limit.high):
            errors[field] = limit.describe()
    systolic, diastolic = cast(Number | None, values.get("systolic")), cast(Number | None, values.get("diastolic"))
    if (systolic is None) != (diastolic is None):
        errors.setdefault("systolic" if systolic is None else "diastolic", "Enter both systolic and diastolic BP.")
    elif (
        systolic is not None
        and diastolic is not None
        and "systolic" not in errors
        and "diastolic" not in errors
        and diastolic >= systolic
    ):
        errors["diastolic"] = "Diastolic BP must be below systolic BP."
    if not any(values.get(f) not in (None, "") for f in (*NUMERIC_VITALS, "dissociation")):
        errors["__all__"] = "Enter at least one measurement."
    if errors:
        raise ValidationError(errors)


def create_reading(
    *, actor: Actor, session: Session, measured_at: datetime, phase: str, **values: VitalValue
) -> VitalsReading:
    """Write one reading on an already locked, open session (shared with the screening)."""
    unknown = set(values) - set(READING_FIELDS)
    if unknown:
        raise TypeError(f"Not a vitals field: {sorted(unknown)}")
    check_past("measured_at", measured_at, "Measured-at time")
    check_vitals(values)
    if isinstance(values.get("temperature"), float):
        values["temperature"] = Decimal(str(values["temperature"]))
    reading = VitalsReading(
        session=session,
        measured_at=measured_at,
        entered_at=timezone.now(),
        entered_by=actor.user,
        phase=phase,
        **{k: ("" if v is None and k in ("dissociation", "note") else v) for k, v in values.items()},
    )
    reading.full_clean(exclude=["entered_by"] if actor.user is None else None)
    reading.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=session.patient,
        record=reading,
        changes=diff_fields({}, {"measured_at": measured_at, "phase": phase, **values}),
    )
    return reading


@transaction.atomic
def vitals_record(
    *, actor: Actor, session: Session, measured_at: datetime, phase: str, **values: VitalValue
) -> VitalsReading:
    """Chart a vitals reading. Nurses; the patient must be in the chair and the session unsigned.

    Impossible values are refused with the accepted range; values outside the
    clinic's reference ranges are saved (and flagged where they are shown).
    """
    session = open_session_for_charting(actor, session, "chart vitals")
    workflow.require_step(session, "chart_vitals")
    return create_reading(actor=actor, session=session, measured_at=measured_at, phase=phase, **values)


@transaction.atomic
def vitals_mark_entered_in_error(*, actor: Actor, reading: VitalsReading, reason: str) -> VitalsReading:
    """Mark a reading entered in error (it stays visible, struck through). Nurses; session unsigned."""
    open_session_for_charting(actor, reading.session, "mark a reading entered in error")
    reading = VitalsReading.objects.select_for_update().get(pk=reading.pk)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason the reading is wrong."})
    if reading.in_error:
        raise ActionRefused("This reading is already marked entered in error.")
    reading.entered_in_error_at = timezone.now()
    reading.entered_in_error_by = actor.user
    reading.entered_in_error_reason = reason
    reading.save(update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.ENTERED_IN_ERROR,
        patient=reading.session.patient,
        record=reading,
        changes={"entered_in_error": [False, True]},
        reason=reason,
    )
    return reading
