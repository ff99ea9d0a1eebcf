"""The vitals flowsheet: record a reading, mark one entered in error."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records import clinical_time, workflow
from records.actions.context import ActionRefused, Actor
from records.actions.sessions import open_session_for_charting, transition
from records.audit import audit_record, diff_fields
from records.models import AuditAction, Screening, Session, VitalsReading
from records.models.vitals import CADSS6_ITEMS, NUMERIC_VITALS, SCALE_FIELDS, Phase, Source
from records.vital_limits import IMPOSSIBLE, SCALE_LIMITS

READING_FIELDS = (*NUMERIC_VITALS, "dissociation", *SCALE_FIELDS, "note")
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
    for field in SCALE_FIELDS:
        score = values.get(field)
        if score is None:
            continue
        scale = SCALE_LIMITS[field]
        if isinstance(score, bool) or not isinstance(score, int) or not (scale.low <= score <= scale.high):
            errors[field] = scale.describe()
    given = [item for item in CADSS6_ITEMS if values.get(item) is not None]
    if given and len(given) < len(CADSS6_ITEMS):
        for item in CADSS6_ITEMS:
            if values.get(item) is None:
                errors.setdefault(item, "Score all six CADSS-6 items (0 to 4), or none.")
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
    if not any(values.get(f) not in (None, "") for f in (*NUMERIC_VITALS, "dissociation", *SCALE_FIELDS)):
        errors["__all__"] = "Enter at least one measurement."
    if errors:
        raise ValidationError(errors)


def create_reading(
    *,
    actor: Actor,
    session: Session,
    measured_at: datetime,
    phase: str,
    source: str = Source.TYPED,
    device_id: str = "",
    **values: VitalValue,
) -> VitalsReading:
    """Write one reading on an already locked, open session (shared with the screening).

    A reading from a monitor (source "device") names the device; the nurse whose
    acceptance charts it is its acceptor (records.actions.devices).
    """
    unknown = set(values) - set(READING_FIELDS)
    if unknown:
        raise TypeError(f"Not a vitals field: {sorted(unknown)}")
    # A post-session reading comes after the last stop (records.clinical_time).
    after = [clinical_time.last_stop(session)] if phase == Phase.POST else []
    clinical_time.require_in_visit(session, field="measured_at", label="Measured at", value=measured_at, after=after)
    check_vitals(values)
    if isinstance(values.get("temperature"), float):
        values["temperature"] = Decimal(str(values["temperature"]))
    from_device = source == Source.DEVICE
    reading = VitalsReading(
        session=session,
        measured_at=measured_at,
        entered_at=timezone.now(),
        entered_by=actor.user,
        phase=phase,
        source=source,
        device_id=device_id if from_device else "",
        accepted_by=actor.user if from_device else None,
        **{k: ("" if v is None and k in ("dissociation", "note") else v) for k, v in values.items()},
    )
    # The session (locked above) and the people are the objects in hand: no query to check they
    # exist. The table's check constraints are the rules check_vitals has just applied, with
    # their messages; the database enforces them again on insert (no query each here).
    reading.full_clean(exclude=["session", "entered_by", "accepted_by"], validate_constraints=False)
    reading.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=session.patient,
        record=reading,
        changes=diff_fields(
            {},
            {
                "measured_at": measured_at,
                "phase": phase,
                **values,
                **({"source": source, "device_id": device_id} if from_device else {}),
            },
        ),
    )
    return reading


@transaction.atomic
def vitals_record(
    *,
    actor: Actor,
    session: Session,
    measured_at: datetime,
    phase: str,
    source: str = Source.TYPED,
    device_id: str = "",
    **values: VitalValue,
) -> VitalsReading:
    """Chart a vitals reading. Nurses; the patient must be in the chair and the session unsigned.

    Impossible values are refused with the accepted range; values outside the
    clinic's reference ranges are saved (and flagged where they are shown).
    Typed readings and accepted device readings (source "device", with the device's
    identity; the nurse is the acceptor) both come through here.
    """
    session = open_session_for_charting(actor, session, "chart vitals")
    workflow.require_step(session, "chart_vitals")
    if source == Source.DEVICE and not device_id.strip():
        raise ValidationError({"device_id": "A reading from a device names the device."})
    return create_reading(
        actor=actor,
        session=session,
        measured_at=measured_at,
        phase=phase,
        source=source,
        device_id=device_id,
        **values,
    )


@transaction.atomic
def vitals_mark_entered_in_error(*, actor: Actor, reading: VitalsReading, reason: str) -> VitalsReading:
    """Mark a reading entered in error (it stays visible, struck through). Nurses; session unsigned.

    Never refused for being inconvenient: a wrong value may always be marked wrong (rule R2).
    When it is the blood pressure of the session's current screening (rule R3):
    - before the start (cleared or held), the screening is marked superseded (kept, with who and
      why) and the session goes back to screening, to be screened again;
    - after the start, or once the session has ended, the status stays as it is: what was given
      was given on the screening as it stood, and stopping it is the nurse's clinical call. The
      screening stays, its BP struck, and nothing more may be started in this session (the start
      action and the database refuse it).
    """
    session = open_session_for_charting(actor, reading.session, "mark a reading entered in error")
    reading = VitalsReading.objects.select_for_update(no_key=True).get(pk=reading.pk)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason the reading is wrong."})
    if reading.in_error:
        raise ActionRefused("This reading is already marked entered in error.")
    reading.entered_in_error_at = timezone.now()
    reading.entered_in_error_by = actor.user
    reading.entered_in_error_reason = reason
    reading.save(update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"])
    screening = (
        Screening.objects.select_for_update(no_key=True).filter(bp_reading=reading, superseded_at__isnull=True).first()
    )
    audit_record(
        actor=actor,
        action=AuditAction.ENTERED_IN_ERROR,
        patient=session.patient,
        record=reading,
        changes={"entered_in_error": [False, True], **({"screening_bp": [None, screening.pk]} if screening else {})},
        reason=reason,
    )
    if screening is not None and workflow.allowed(session, "rescreen"):
        _rescreen(actor, session, screening, reason)
    return reading


def _rescreen(actor: Actor, session: Session, screening: Screening, reason: str) -> None:
    """R3: the screening whose BP was struck is superseded; the session is screened again."""
    screening.superseded_at = timezone.now()
    screening.superseded_by = actor.person
    screening.superseded_reason = f"Its blood pressure reading was marked entered in error: {reason}"
    screening.save(update_fields=["superseded_at", "superseded_by", "superseded_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.RESCREEN,
        patient=session.patient,
        record=screening,
        changes={"superseded": [False, True]},
        reason=screening.superseded_reason,
    )
    transition(actor=actor, session=session, step="rescreen", action=AuditAction.RESCREEN, reason=reason)
