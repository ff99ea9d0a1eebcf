"""Side effects and discharge."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records import clinical_time, discharge_criteria, workflow
from records.actions.context import ActionRefused, Actor
from records.actions.sessions import lock_session, open_session_for_charting, require_permission, transition
from records.audit import audit_record, diff_fields
from records.models import (
    AuditAction,
    Discharge,
    DischargeOverride,
    Session,
    Severity,
    SideEffect,
    SideEffectKind,
)

DISCHARGE_CRITERIA = ("alert_and_oriented", "vitals_near_baseline", "steady_walking", "escort_present_not_driving")


@transaction.atomic
def side_effect_record(
    *,
    actor: Actor,
    session: Session,
    kind: str,
    severity: str,
    onset_at: datetime,
    action_taken: str,
    other_text: str = "",
    resolved_at: datetime | None = None,
) -> SideEffect:
    """Record a side effect. Nurses; from clearance until discharge, session unsigned."""
    session = open_session_for_charting(actor, session, "record a side effect")
    workflow.require_step(session, "record_side_effect")
    errors = {}
    if kind not in SideEffectKind.values:
        errors["kind"] = "Choose the type of side effect."
    if kind == SideEffectKind.OTHER and not other_text.strip():
        errors["other_text"] = "Describe the side effect."
    if severity not in Severity.values:
        errors["severity"] = "Choose mild, moderate or severe."
    if not action_taken.strip():
        errors["action_taken"] = "Say what was done (or 'none')."
    if errors:
        raise ValidationError(errors)
    clinical_time.require_in_visit(session, field="onset_at", label="Onset", value=onset_at)
    if resolved_at is not None:
        clinical_time.require_in_visit(
            session, field="resolved_at", label="Resolved at", value=resolved_at, after=[onset_at]
        )
    effect = SideEffect.objects.create(
        session=session,
        kind=kind,
        other_text=other_text.strip() if kind == SideEffectKind.OTHER else "",
        severity=severity,
        onset_at=onset_at,
        action_taken=action_taken.strip(),
        resolved_at=resolved_at,
        recorded_by=actor.person,
        recorded_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=session.patient,
        record=effect,
        changes=diff_fields(
            {},
            {
                "kind": kind,
                "other_text": effect.other_text or None,
                "severity": severity,
                "onset_at": onset_at,
                "action_taken": effect.action_taken,
                "resolved_at": resolved_at,
            },
        ),
    )
    return effect


@transaction.atomic
def side_effect_resolve(*, actor: Actor, side_effect: SideEffect, resolved_at: datetime) -> SideEffect:
    """Record when a side effect resolved. Nurses; session unsigned."""
    session = open_session_for_charting(actor, side_effect.session, "record the resolution")
    effect = SideEffect.objects.select_for_update(no_key=True).get(pk=side_effect.pk)
    if effect.resolved_at is not None:
        raise ActionRefused("This side effect already has its resolution time.")
    clinical_time.require_in_visit(
        session, field="resolved_at", label="Resolved at", value=resolved_at, after=[effect.onset_at]
    )
    effect.resolved_at = resolved_at
    effect.save(update_fields=["resolved_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        patient=effect.session.patient,
        record=effect,
        changes={"resolved_at": [None, resolved_at.isoformat()]},
    )
    return effect


@transaction.atomic
def discharge_record(
    *,
    actor: Actor,
    session: Session,
    alert_and_oriented: bool,
    vitals_near_baseline: bool,
    steady_walking: bool,
    escort_present_not_driving: bool,
    discharged_at: datetime | None = None,
    note: str = "",
) -> Discharge:
    """Discharge the patient. Nurses; the session in recovery (or stopped early), unsigned.

    Refused, with a message naming each unmet criterion (records.discharge_criteria), until the
    patient may leave: the protocol's observation time and before-discharge checkpoint, a
    post-session reading, the last MOAA/S 5, dissociation resolved, every administration stopped,
    the escort confirmed. A physician's override (discharge_override) waives the criteria of
    clinical judgement only. Then every criterion of the nurse's checklist must be confirmed.
    """
    session = open_session_for_charting(actor, session, "discharge")
    workflow.require_step(session, "discharge")
    discharged_at = discharged_at or timezone.now()
    unmet = discharge_criteria.unmet_criteria(
        session, now=discharged_at, escort_present_not_driving=escort_present_not_driving
    )
    overridden = session.discharge_overrides.exists()
    blocking = [u for u in unmet if not (u.overridable and overridden)]
    if any(u.key != "escort" for u in blocking):
        raise ActionRefused("Cannot discharge yet. " + " ".join(u.message for u in blocking))
    criteria = {
        "alert_and_oriented": alert_and_oriented,
        "vitals_near_baseline": vitals_near_baseline,
        "steady_walking": steady_walking,
        "escort_present_not_driving": escort_present_not_driving,
    }
    errors = {name: "This criterion must be met before discharge." for name, met in criteria.items() if not met}
    if errors:
        raise ValidationError(errors)
    clinical_time.require_in_visit(
        session,
        field="discharged_at",
        label="Discharge time",
        value=discharged_at,
        after=[clinical_time.last_stop(session), session.arrived_at],
    )
    discharge = Discharge.objects.create(
        session=session, discharged_at=discharged_at, discharged_by=actor.person, note=note.strip(), **criteria
    )
    audit_record(
        actor=actor,
        action=AuditAction.DISCHARGE,
        patient=session.patient,
        record=discharge,
        changes=diff_fields(
            {},
            {
                **criteria,
                "discharged_at": discharged_at,
                "note": discharge.note or None,
                # The criteria a physician's override waived (discharge_override), if any.
                "overridden": ", ".join(u.key for u in unmet if u.overridable) if overridden else None,
            },
        ),
    )
    transition(actor=actor, session=session, step="discharge", action=AuditAction.DISCHARGE)
    return discharge


@transaction.atomic
def discharge_override(*, actor: Actor, session: Session, reason: str) -> DischargeOverride:
    """A physician lets the patient leave before the criteria of clinical judgement are met.

    Physicians (override_discharge); the view re-authenticates them first. The session in recovery
    (or stopped early) and unsigned, with at least one such criterion unmet (records.discharge_criteria).
    The override keeps the criteria as they stood, is audited with its reason and shows on the page
    and in the print. It never waives a running administration, the post-session reading or the escort.
    """
    require_permission(actor, "override_discharge", "Only a physician may override the discharge criteria.")
    session = lock_session(session)
    if session.is_locked:
        raise ActionRefused("Cannot override: the session is signed and locked.")
    workflow.require_step(session, "discharge")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Write why the patient may leave before these criteria are met."})
    now = timezone.now()
    unmet = [u for u in discharge_criteria.unmet_criteria(session, now=now) if u.overridable]
    if not unmet:
        raise ActionRefused("Nothing to override: the protocol, sedation and dissociation criteria are met.")
    override = DischargeOverride.objects.create(
        session=session,
        physician=actor.person,
        physician_name=actor.person.printed_name,
        reason=reason,
        unmet="\n".join(u.message for u in unmet),
        at=now,
    )
    audit_record(
        actor=actor,
        action=AuditAction.DISCHARGE_OVERRIDE,
        patient=session.patient,
        record=override,
        changes={"unmet": [None, override.unmet]},
        reason=reason,
    )
    return override
