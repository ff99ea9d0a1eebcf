"""Sessions: scheduling, the state transitions, signing, co-signing and addenda."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records import clinical_time, workflow
from records.actions.context import ActionRefused, Actor
from records.audit import audit_record, diff_fields
from records.models import Addendum, AuditAction, ExitKind, Order, Patient, Session, SessionStatus, User
from records.permissions import Role, require, role_of
from records.seals import COSIGN, SIGN, seal_make
from records.vital_limits import CLOCK_SKEW_SECONDS

LOCKED_MESSAGE = "This session is signed and locked; add an addendum instead."


def require_permission(actor: Actor, permission: str, message: str | None = None) -> None:
    if not actor.is_system:
        require(actor.user, permission, message)


def lock_session(session: Session) -> Session:
    """The session row, locked for this transaction (fresh from the database)."""
    return Session.objects.select_for_update(no_key=True).select_related("patient").get(pk=session.pk)


def open_session_for_charting(actor: Actor, session: Session, verb: str = "chart") -> Session:
    """Lock the session and refuse if it is signed: the check every charting action makes first.

    Rule R2 (records.rules): a signed session is locked. The row lock also serialises two
    requests on one session (R4: a double click waits for the first and then sees it)."""
    require_permission(actor, "chart_session", "Only a nurse may chart a session.")
    current = lock_session(session)
    if current.is_locked:
        raise ActionRefused(f"Cannot {verb}: {LOCKED_MESSAGE[0].lower()}{LOCKED_MESSAGE[1:]}")
    return current


def lock_orders(session: Session) -> None:
    """Lock the session's orders before a signature's seal is made.

    A verbal order's co-signature may come at any time; with the orders locked it is
    either in the seal (given before) or dated after it (given after), never in between.
    """
    list(Order.objects.select_for_update(no_key=True).filter(session=session).values_list("pk", flat=True))


def columns(values: Mapping[str, object]) -> dict[str, object]:
    """{field: value} as {column: value}: a person becomes their id (`signed_by` -> `signed_by_id`)."""
    return {
        f"{name}_id" if isinstance(value, User) else name: value.pk if isinstance(value, User) else value
        for name, value in values.items()
    }


def check_past(field: str, value: datetime, label: str) -> None:
    """Refuse a clinical time in the future (beyond a minute's clock skew). Rule R5 (records.rules)."""
    if value > timezone.now() + timedelta(seconds=CLOCK_SKEW_SECONDS):
        raise ValidationError({field: f"{label} cannot be in the future."})


def user_name(user: User | None) -> str:
    return user.printed_name if user is not None else ""


def transition(
    *,
    actor: Actor,
    session: Session,
    step: str,
    action: AuditAction,
    to: SessionStatus | None = None,
    reason: str = "",
    extra: Mapping[str, object] | None = None,
    also: Mapping[str, Sequence[object]] | None = None,
) -> Session:
    """Move a locked session along `step` of records.workflow's table and audit the change
    (and any extra field changes); rules R2 and R6 (the database holds the same steps, 0003).
    Refuses a step the session's status does not allow;
    `to` chooses the result of a step that has several (the screening: cleared or held).
    `also`: more entries for the audit event's changes (a signature's seal)."""
    workflow.require_step(session, step)
    before = {"status": session.status, **{k: getattr(session, k) for k in (extra or {})}}
    session.status = workflow.next_status(step, to)
    for name, value in (extra or {}).items():
        setattr(session, name, value)
    session.save()
    after = {"status": session.status, **{k: getattr(session, k) for k in (extra or {})}}
    audit_record(
        actor=actor,
        action=action,
        patient=session.patient,
        record=session,
        changes={**diff_fields(before, after), **(also or {})},
        reason=reason,
    )
    return session


def _check_staff(field: str, user: User | None, role: Role, label: str) -> None:
    if user is not None and (not user.is_active or role_of(user) != role):
        raise ValidationError({field: f"The {label} must be an active {role.label.lower()} account."})


@transaction.atomic
def session_schedule(
    *,
    actor: Actor,
    patient: Patient,
    planned_route: str,
    scheduled_at: datetime,
    chair: str,
    primary_nurse: User | None = None,
    supervising_physician: User | None = None,
) -> Session:
    """Schedule a session for an active patient. Nurses and physicians."""
    require_permission(actor, "add_session")
    if not patient.is_active:
        raise ActionRefused("Cannot schedule: this patient's record is deactivated.")
    _check_staff("primary_nurse", primary_nurse, Role.NURSE, "primary nurse")
    _check_staff("supervising_physician", supervising_physician, Role.PHYSICIAN, "supervising physician")
    session = Session(
        patient=patient,
        planned_route=planned_route,
        scheduled_at=scheduled_at,
        chair=" ".join(chair.split()),
        primary_nurse=primary_nurse,
        supervising_physician=supervising_physician,
    )
    session.full_clean()
    session.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=patient,
        record=session,
        changes=diff_fields(
            {},
            {
                "planned_route": planned_route,
                "scheduled_at": scheduled_at,
                "chair": session.chair,
                "primary_nurse": user_name(primary_nurse),
                "supervising_physician": user_name(supervising_physician),
                "status": session.status,
            },
        ),
    )
    return session


@transaction.atomic
def session_arrive(*, actor: Actor, session: Session, arrived_at: datetime | None = None) -> Session:
    """Check the patient in. Nurses; the session must be scheduled."""
    session = open_session_for_charting(actor, session, "arrive")
    workflow.require_step(session, "arrive")
    arrived_at = arrived_at or timezone.now()
    clinical_time.require_in_visit(session, field="arrived_at", label="Arrival time", value=arrived_at)
    return transition(
        actor=actor,
        session=session,
        step="arrive",
        action=AuditAction.ARRIVE,
        extra={"arrived_at": arrived_at},
    )


@transaction.atomic
def session_begin_screening(*, actor: Actor, session: Session) -> Session:
    """Start the contraindication screening. Nurses; the patient must have arrived."""
    session = open_session_for_charting(actor, session, "begin screening")
    workflow.require_step(session, "begin_screening")
    return transition(actor=actor, session=session, step="begin_screening", action=AuditAction.BEGIN_SCREENING)


@transaction.atomic
def session_cancel(*, actor: Actor, session: Session, reason: str, no_show: bool = False) -> Session:
    """Cancel, or record a no-show, before anything is administered. Nurses; a reason is required."""
    session = open_session_for_charting(actor, session, "cancel")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason."})
    workflow.require_step(session, "cancel")
    if no_show:
        workflow.require_step(session, "no_show")
    kind = ExitKind.NO_SHOW if no_show else ExitKind.CANCELLED
    return transition(
        actor=actor,
        session=session,
        step="no_show" if no_show else "cancel",
        action=AuditAction.NO_SHOW if no_show else AuditAction.CANCEL,
        reason=reason,
        extra={"exit_kind": kind, "exit_reason": reason},
    )


@transaction.atomic
def session_sign(*, actor: Actor, session: Session) -> Session:
    """The nurse signs the session ("charted by"), which locks it. Nurses; discharged, cancelled or no-show."""
    session = open_session_for_charting(actor, session, "sign")
    if actor.user is None:
        raise ActionRefused("Cannot sign: a signature needs a signed-in person.")
    workflow.require_step(session, "sign")
    if session.administrations.exclude(state="stopped").exists():
        raise ActionRefused("Cannot sign: an administration is still running or paused.")
    if session.device_readings.filter(state="pending").exists():
        raise ActionRefused("Cannot sign: readings from the monitor await a decision; reject the ones not to chart.")
    lock_orders(session)
    now = timezone.now()
    signature = {"signed_by": actor.user, "signed_at": now, "signed_name": actor.user.printed_name}
    return transition(
        actor=actor,
        session=session,
        step="sign",
        action=AuditAction.SIGN,
        reason="charted by",
        extra=signature,
        also=seal_make(session_id=session.pk, kind=SIGN, as_of=now, signature=columns(signature)),
    )


@transaction.atomic
def session_cosign(*, actor: Actor, session: Session) -> Session:
    """A physician co-signs a signed session ("reviewed by"). Physicians; the session must be signed."""
    require_permission(actor, "cosign_session", "Only a physician may co-sign a session.")
    if actor.user is None:
        raise ActionRefused("Cannot co-sign: a signature needs a signed-in person.")
    session = lock_session(session)
    workflow.require_step(session, "cosign")
    lock_orders(session)
    now = timezone.now()
    signature = {"cosigned_by": actor.user, "cosigned_at": now, "cosigned_name": actor.user.printed_name}
    return transition(
        actor=actor,
        session=session,
        step="cosign",
        action=AuditAction.COSIGN,
        reason="reviewed by",
        extra=signature,
        also=seal_make(session_id=session.pk, kind=COSIGN, as_of=now, signature=columns(signature)),
    )


@transaction.atomic
def addendum_add(*, actor: Actor, session: Session, text: str, reason: str) -> Addendum:
    """Add later information to a signed session, beneath the original. Nurses and physicians."""
    require_permission(actor, "write_addendum")
    if actor.user is None:
        raise ActionRefused("Cannot add an addendum: it needs a signed-in author.")
    session = lock_session(session)
    if not session.is_locked:
        raise ActionRefused("Cannot add an addendum: the session is not signed yet; chart it directly.")
    errors = {}
    if not text.strip():
        errors["text"] = "Write the addendum."
    if not reason.strip():
        errors["reason"] = "Give the reason for the addendum."
    if errors:
        raise ValidationError(errors)
    addendum = Addendum(
        session=session,
        text=text.strip(),
        reason=reason.strip(),
        author=actor.user,
        author_name=actor.user.printed_name,
        written_at=timezone.now(),
    )
    addendum.full_clean()
    addendum.save()
    audit_record(
        actor=actor,
        action=AuditAction.ADDENDUM,
        patient=session.patient,
        record=addendum,
        changes={"text": [None, addendum.text]},
        reason=addendum.reason,
    )
    return addendum


@transaction.atomic
def session_view(*, actor: Actor, session: Session, what: str = "session page") -> None:
    """Record that the actor opened a session's chart (rule R6). Anyone allowed to read sessions."""
    require_permission(actor, "view_session")
    audit_record(actor=actor, action=AuditAction.VIEW, patient=session.patient, record=session, reason=what)


@transaction.atomic
def physician_worklist_view(*, actor: Actor, held: int, orders: int, signed: int, everyone: bool) -> None:
    """Record that a physician opened the worklists (patients' names): how many of each were listed, and whose."""
    require_permission(actor, "decide_screening")
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        record_type="physician_worklist",
        changes={
            "held_screenings": [None, held],
            "orders_to_cosign": [None, orders],
            "sessions_to_cosign": [None, signed],
        },
        reason="every physician's items" if everyone else "own and unassigned items",
    )


@transaction.atomic
def session_board_view(*, actor: Actor, session_count: int) -> None:
    """Record that the actor opened today's board (names of every patient in a chair)."""
    require_permission(actor, "view_session")
    audit_record(
        actor=actor, action=AuditAction.VIEW, record_type="session_board", changes={"sessions": [None, session_count]}
    )
