"""The esketamine REMS Patient Monitoring Form: the nurse records it, an admin marks it submitted.

The product keeps and prints the form; it sends nothing out. Who may do what is records.permissions:
nurses record the form, nurses, physicians and admins read and print it, admins mark it submitted.
"""

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records import rems
from records.actions.context import ActionRefused, Actor
from records.actions.sessions import lock_session, require_permission
from records.audit import audit_record, diff_fields
from records.models import (
    AuditAction,
    ConcomitantMedication,
    ReadyToLeave,
    RemsMonitoringForm,
    Session,
    SessionStatus,
    YesNo,
)

# The form reports a finished monitoring: from the discharge on, also after the nurse has signed.
AFTER_DISCHARGE = (SessionStatus.DISCHARGED, SessionStatus.SIGNED, SessionStatus.COSIGNED)
YES_NO_FIELDS = {
    "sedation": "Sedation",
    "dissociation": "Dissociation",
    "respiratory_depression": "Respiratory depression",
    "serious_adverse_events": "Serious adverse events",
}


@transaction.atomic
def rems_form_record(
    *,
    actor: Actor,
    session: Session,
    lot_number: str,
    ready_to_leave: str,
    sedation: str,
    dissociation: str,
    respiratory_depression: str,
    concomitant_medications: Sequence[str],
    serious_adverse_events: str,
    concomitant_note: str = "",
    serious_adverse_events_text: str = "",
) -> RemsMonitoringForm:
    """Record the REMS monitoring form of an intranasal esketamine session. Nurses; once the patient is
    discharged (signed or not); once per session. Nothing is filled in from an earlier session."""
    require_permission(actor, "chart_session", "Only a nurse may record the REMS monitoring form.")
    session = lock_session(session)
    if not rems.is_esketamine(session):
        raise ActionRefused("This session has no intranasal esketamine order: it needs no REMS monitoring form.")
    if session.status not in AFTER_DISCHARGE:
        raise ActionRefused("The REMS monitoring form reports the whole monitoring: record it after the discharge.")
    if RemsMonitoringForm.objects.filter(session=session).exists():
        raise ActionRefused("This session's REMS monitoring form is already recorded.")
    errors: dict[str, str] = {}
    lot_number = lot_number.strip()
    if not lot_number:
        errors["lot_number"] = "Enter the lot number as on the devices."
    if ready_to_leave not in ReadyToLeave.values:
        errors["ready_to_leave"] = "Choose when the patient would have been ready to leave."
    answers = {
        "sedation": sedation,
        "dissociation": dissociation,
        "respiratory_depression": respiratory_depression,
        "serious_adverse_events": serious_adverse_events,
    }
    for field, value in answers.items():
        if value not in YesNo.values:
            errors[field] = f"{YES_NO_FIELDS[field]}: choose yes or no."
    unknown = [c for c in concomitant_medications if c not in ConcomitantMedication.values]
    if unknown:
        errors["concomitant_medications"] = "Choose from the form's categories."
    if serious_adverse_events == YesNo.YES and not serious_adverse_events_text.strip():
        errors["serious_adverse_events_text"] = "Describe the serious adverse events."
    if errors:
        raise ValidationError(errors)
    chosen = [c for c in ConcomitantMedication.values if c in set(concomitant_medications)]
    form = RemsMonitoringForm.objects.create(
        session=session,
        lot_number=lot_number,
        ready_to_leave=ready_to_leave,
        concomitant_medications=chosen,
        concomitant_note=concomitant_note.strip(),
        serious_adverse_events_text=serious_adverse_events_text.strip() if serious_adverse_events == YesNo.YES else "",
        recorded_by=actor.person,
        recorded_at=timezone.now(),
        **answers,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=session.patient,
        record=form,
        changes=diff_fields(
            {},
            {
                "lot_number": lot_number,
                "ready_to_leave": ready_to_leave,
                **answers,
                "concomitant_medications": ", ".join(chosen) or None,
                "concomitant_note": form.concomitant_note or None,
                "serious_adverse_events_text": form.serious_adverse_events_text or None,
            },
        ),
    )
    return form


@transaction.atomic
def rems_form_submit(*, actor: Actor, form: RemsMonitoringForm, submitted_on: date) -> RemsMonitoringForm:
    """Record that the clinic submitted the form (the date it was sent, and who). Admins; once per form.

    The product sends nothing: this records what the admin did outside it.
    """
    require_permission(actor, "submit_rems_form", "Only an admin may mark a REMS monitoring form submitted.")
    form = RemsMonitoringForm.objects.select_for_update(no_key=True).select_related("session__patient").get(pk=form.pk)
    if form.submitted:
        raise ActionRefused("This form is already marked submitted.")
    today = timezone.localdate()
    session_day = timezone.localtime(form.session.scheduled_at).date()
    if not session_day <= submitted_on <= today:
        raise ValidationError(
            {"submitted_on": f"Date submitted: between the session's day ({session_day}) and today ({today})."}
        )
    form.submitted_on = submitted_on
    form.submitted_by = actor.person
    form.submitted_at = timezone.now()
    form.save(update_fields=["submitted_on", "submitted_by", "submitted_at"])
    audit_record(
        actor=actor,
        action=AuditAction.REMS_FORM_SUBMITTED,
        patient=form.session.patient,
        record=form,
        changes={"submitted_on": [None, submitted_on.isoformat()]},
    )
    return form


@transaction.atomic
def rems_form_view(*, actor: Actor, session: Session, what: str, printed: bool = False) -> None:
    """Record that the actor opened (or printed) a session's REMS monitoring form. Whoever may read it."""
    require_permission(actor, "view_remsmonitoringform")
    audit_record(
        actor=actor,
        action=AuditAction.PRINT if printed else AuditAction.VIEW,
        patient=session.patient,
        record=session,
        reason=what,
        changes={"document": [None, what]} if printed else None,
    )


@transaction.atomic
def rems_worklist_view(*, actor: Actor, listed: int) -> None:
    """Record that the actor opened the list of REMS forms due (patients' names): how many were listed."""
    require_permission(actor, "view_remsmonitoringform")
    audit_record(actor=actor, action=AuditAction.VIEW, record_type="rems_worklist", changes={"listed": [None, listed]})
