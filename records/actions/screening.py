"""The contraindication screening and the physician's decision on a held one."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records import workflow
from records.actions.context import ActionRefused, Actor
from records.actions.sessions import lock_session, open_session_for_charting, require_permission, transition
from records.actions.vitals import create_reading
from records.audit import audit_record, diff_fields
from records.models import (
    Answer,
    AuditAction,
    ClinicSettings,
    ExitKind,
    Phase,
    Pregnancy,
    Screening,
    ScreeningDecision,
    ScreeningOutcome,
    Session,
    SessionStatus,
)

ANSWER_FIELDS = ("hypertension_history", "hypertension_uncontrolled", "psychosis_history", "psychosis_current")


@transaction.atomic
def screening_record(
    *,
    actor: Actor,
    session: Session,
    systolic: int,
    diastolic: int,
    bp_measured_at: datetime | None = None,
    hypertension_history: str,
    hypertension_uncontrolled: str,
    psychosis_history: str,
    psychosis_current: str,
    pregnancy: str,
    pregnancy_note: str = "",
) -> Screening:
    """Record the screening: cleared only if every answer is negative and the BP is below the
    clinic's threshold; otherwise held for a physician. Nurses; session in screening, once."""
    session = open_session_for_charting(actor, session, "screen")
    if Screening.objects.filter(session=session).exists():
        raise ActionRefused("Cannot screen: this session already has its screening.")
    workflow.require_step(session, "screen")
    answers = {
        "hypertension_history": hypertension_history,
        "hypertension_uncontrolled": hypertension_uncontrolled,
        "psychosis_history": psychosis_history,
        "psychosis_current": psychosis_current,
    }
    errors = {name: "Choose yes, no or unknown." for name, v in answers.items() if v not in Answer.values}
    if pregnancy not in Pregnancy.values:
        errors["pregnancy"] = "Choose an answer for pregnancy."
    pregnancy_note = pregnancy_note.strip()
    if pregnancy == Pregnancy.NOT_PREGNANT_NA and not pregnancy_note:
        errors["pregnancy_note"] = "Say why a pregnancy test does not apply."
    if errors:
        raise ValidationError(errors)
    reading = create_reading(
        actor=actor,
        session=session,
        measured_at=bp_measured_at or timezone.now(),
        phase=Phase.PRE,
        systolic=systolic,
        diastolic=diastolic,
    )
    clinic = ClinicSettings.current()
    negative = all(v == Answer.NO for v in answers.values()) and pregnancy in (
        Pregnancy.NOT_PREGNANT_TEST,
        Pregnancy.NOT_PREGNANT_NA,
    )
    cleared = negative and not clinic.bp_holds(systolic, diastolic)
    screening = Screening(
        session=session,
        bp_reading=reading,
        pregnancy=pregnancy,
        pregnancy_note=pregnancy_note,
        bp_hold_systolic=clinic.bp_hold_systolic,
        bp_hold_diastolic=clinic.bp_hold_diastolic,
        outcome=ScreeningOutcome.CLEARED if cleared else ScreeningOutcome.HELD,
        screened_by=actor.user,
        screened_at=timezone.now(),
        **answers,
    )
    screening.full_clean(exclude=["screened_by"] if actor.user is None else None)
    screening.save()
    audit_record(
        actor=actor,
        action=AuditAction.SCREEN,
        patient=session.patient,
        record=screening,
        changes=diff_fields(
            {},
            {
                **answers,
                "pregnancy": pregnancy,
                "pregnancy_note": pregnancy_note,
                "bp": f"{systolic}/{diastolic}",
                "outcome": screening.outcome,
            },
        ),
    )
    transition(
        actor=actor,
        session=session,
        step="screen",
        to=SessionStatus.CLEARED if cleared else SessionStatus.HELD,
        action=AuditAction.SCREEN,
        reason="" if cleared else "Held: " + ", ".join(screening.hold_reasons),
    )
    return screening


@transaction.atomic
def screening_decide(*, actor: Actor, screening: Screening, decision: str, reason: str) -> Screening:
    """A physician decides on a held screening: proceed (written justification) or do not proceed
    (the session ends, reason kept). Physicians; the session must be held and unsigned."""
    require_permission(actor, "decide_screening", "Only a physician may decide on a held screening.")
    session = lock_session(screening.session)
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    if session.is_locked:
        raise ActionRefused("Cannot decide: the session is signed and locked.")
    step = "decide_proceed" if decision == ScreeningDecision.PROCEED else "decide_do_not_proceed"
    if screening.outcome != ScreeningOutcome.HELD or not workflow.allowed(session, step):
        raise ActionRefused(workflow.refusal(session, step))
    if decision not in ScreeningDecision.values:
        raise ValidationError({"decision": "Choose proceed or do not proceed."})
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {
                "reason": "Write the justification for proceeding."
                if decision == ScreeningDecision.PROCEED
                else "Give the reason for not proceeding."
            }
        )
    screening.decision = decision
    screening.decision_reason = reason
    screening.decided_by = actor.user
    screening.decided_at = timezone.now()
    screening.save(update_fields=["decision", "decision_reason", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action=AuditAction.SCREENING_DECISION,
        patient=session.patient,
        record=screening,
        changes={"decision": [None, decision]},
        reason=reason,
    )
    if decision == ScreeningDecision.PROCEED:
        transition(actor=actor, session=session, step=step, action=AuditAction.SCREENING_DECISION)
    else:
        transition(
            actor=actor,
            session=session,
            step=step,
            action=AuditAction.SCREENING_DECISION,
            reason=reason,
            extra={"exit_kind": ExitKind.NOT_PROCEEDED, "exit_reason": reason},
        )
    return screening
