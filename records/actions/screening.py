"""The contraindication screening and the physician's decision on a held one.

Rule R3 (records.rules): nothing is administered without a cleared screening or a physician's
decision to proceed, and the hold belongs to the patient: a screening is held, whatever its own
answers, while the patient has an undecided hold or a "do not proceed" in another session of the
same clinic day, or this session's earlier (superseded) screening had positive findings.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from records import clinical_time, workflow
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


@dataclass(frozen=True)
class PatientHold:
    """A finding outside this screening that holds it: when it arose, and what a person is told."""

    at: datetime
    text: str


def _clinic_day(at: datetime) -> tuple[datetime, datetime]:
    day = timezone.localdate(at)
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def _session_name(session: Session) -> str:
    return f"session {session.pk} ({timezone.localtime(session.scheduled_at):%Y-%m-%d %H:%M}, {session.chair})"


def patient_holds(session: Session, *, at: datetime) -> list[PatientHold]:
    """Rule R3: the holds of the patient's other sessions that hold a screening of `session` at `at`.

    An undecided hold of a session still held (any day), or recorded the same clinic day (also
    if that session has since ended), and a physician's "do not proceed" the same clinic day.
    """
    start, end = _clinic_day(at)
    others = (
        Screening.objects.filter(
            session__patient_id=session.patient_id, superseded_at__isnull=True, outcome=ScreeningOutcome.HELD
        )
        .exclude(session_id=session.pk)
        .filter(
            Q(decision="", session__status=SessionStatus.HELD)
            | Q(decision="", screened_at__gte=start, screened_at__lt=end)
            | Q(decision=ScreeningDecision.DO_NOT_PROCEED, decided_at__gte=start, decided_at__lt=end)
        )
        .select_related("session", "bp_reading", "decided_by")
        .order_by("screened_at", "id")
    )
    holds = []
    for other in others:
        findings = "; ".join(other.own_hold_reasons) or "held"
        if other.decision == ScreeningDecision.DO_NOT_PROCEED:
            decided_by = other.decided_by.printed_name if other.decided_by else ""
            assert other.decided_at is not None  # a decision has its time (a database constraint)
            text = (
                f"In {_session_name(other.session)} a physician decided not to proceed "
                f"({decided_by}, {timezone.localtime(other.decided_at):%H:%M}): {other.decision_reason} "
                f"[findings: {findings}]"
            )
            holds.append(PatientHold(other.decided_at, text))
        else:
            text = f"In {_session_name(other.session)} the screening is held for a physician's decision: {findings}"
            holds.append(PatientHold(other.screened_at, text))
    return holds


def _earlier_findings(session: Session) -> list[str]:
    """Rule R3: the positive findings of this session's superseded screenings still hold a new one."""
    lines = []
    for earlier in Screening.objects.filter(session_id=session.pk, superseded_at__isnull=False).order_by(
        "screened_at", "id"
    ):
        findings = earlier.positive_findings()
        if findings:
            lines.append(
                f"This session's earlier screening ({timezone.localtime(earlier.screened_at):%H:%M}, superseded): "
                + "; ".join(findings)
            )
    return lines


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
    """Record the screening: cleared only if every answer is negative, the BP is below the
    clinic's threshold and the patient has no hold elsewhere (rule R3); otherwise held for a
    physician. Nurses; session in screening, one current screening."""
    session = open_session_for_charting(actor, session, "screen")
    if session.screening is not None:
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
    bp_measured_at = bp_measured_at or timezone.now()
    clinical_time.require_in_visit(session, field="bp_measured_at", label="BP measured at", value=bp_measured_at)
    reading = create_reading(
        actor=actor,
        session=session,
        measured_at=bp_measured_at,
        phase=Phase.PRE,
        systolic=systolic,
        diastolic=diastolic,
    )
    clinic = ClinicSettings.current()
    negative = all(v == Answer.NO for v in answers.values()) and pregnancy in (
        Pregnancy.NOT_PREGNANT_TEST,
        Pregnancy.NOT_PREGNANT_NA,
    )
    now = timezone.now()
    # R3: the hold belongs to the patient (other sessions) and survives a rescreen (earlier screenings).
    carried = [hold.text for hold in patient_holds(session, at=now)] + _earlier_findings(session)
    cleared = negative and not clinic.bp_holds(systolic, diastolic) and not carried
    screening = Screening(
        session=session,
        bp_reading=reading,
        pregnancy=pregnancy,
        pregnancy_note=pregnancy_note,
        bp_hold_systolic=clinic.bp_hold_systolic,
        bp_hold_diastolic=clinic.bp_hold_diastolic,
        outcome=ScreeningOutcome.CLEARED if cleared else ScreeningOutcome.HELD,
        screened_by=actor.user,
        screened_at=now,
        carried_findings="\n".join(carried),
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
                "carried_findings": screening.carried_findings,
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
    screening = Screening.objects.select_for_update(no_key=True).get(pk=screening.pk)
    if session.is_locked:
        raise ActionRefused("Cannot decide: the session is signed and locked.")
    if screening.superseded_at is not None:
        raise ActionRefused("Cannot decide: this screening was superseded; decide on the session's current screening.")
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
