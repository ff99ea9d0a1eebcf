"""The order as given, and its administration: start, pause, resume, stop.

Nothing here proposes, computes or converts a dose: values are stored as the
clinician wrote them (records.doses validates their form only; rule R1 in records.rules).
"""

from datetime import datetime, timedelta
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from records import clinical_time, workflow
from records.actions.context import ActionRefused, Actor
from records.actions.protocols import session_protocol_adopt
from records.actions.screening import patient_holds
from records.actions.sessions import open_session_for_charting, transition, user_name
from records.audit import audit_record, diff_fields
from records.doses import DoseUnit, validate_dose_value
from records.models import (
    Administration,
    AdministrationEvent,
    AdministrationEventKind,
    AdministrationState,
    AuditAction,
    ClinicSettings,
    ExitKind,
    Order,
    Patient,
    ReceivedAs,
    Route,
    ScreeningDecision,
    Session,
    User,
)
from records.permissions import Role, role_of


class OrderAlreadyRecorded(ActionRefused):
    """The order form was sent again with the key of an order already recorded (rule R4)."""

    def __init__(self, order: Order) -> None:
        super().__init__("This order is already recorded: the form was sent twice, and it was saved once.")
        self.order = order


class StartRefusedByScreening(ActionRefused):
    """Rule R3's hard stop: the screening does not allow a start. Audited after the rollback."""

    def __init__(self, message: str, *, session: Session, order: Order) -> None:
        super().__init__(message)
        self.session = session
        self.patient: Patient = session.patient
        self.order = order


def _dose_errors(value: str, unit: str, value_field: str, unit_field: str, label: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        validate_dose_value(value, label)
    except ValidationError as exc:
        errors[value_field] = exc.messages[0]
    if unit not in DoseUnit.values:
        errors[unit_field] = f"Choose the unit from the list: {', '.join(DoseUnit.values)}."
    return errors


@transaction.atomic
def order_document(
    *,
    actor: Actor,
    session: Session,
    received_as: str,
    medication: str,
    dose_value: str,
    dose_unit: str,
    route: str,
    order_text: str,
    received_at: datetime,
    ordering_physician: User | None = None,
    outside_prescriber: str = "",
    read_back_confirmed: bool = False,
    rate_text: str = "",
    submission_key: UUID | None = None,
) -> Order:
    """Document an order exactly as given. Nurses; from arrival until recovery, session unsigned.

    The dose is stored exactly as written, never filled in or computed (rule R1).
    Verbal and telephone orders need read-back confirmed and a clinic physician,
    and get a co-signature deadline from the clinic settings. `submission_key` is the
    order form's one-time key: a second submit of the same form is refused with
    OrderAlreadyRecorded, and nothing is written (rule R4).
    """
    session = open_session_for_charting(actor, session, "document an order")
    # R4: the session row is locked, so a concurrent second submit waits here and then sees the first.
    if submission_key is not None:
        existing = Order.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            raise OrderAlreadyRecorded(existing)
    workflow.require_step(session, "document_order")
    outside_prescriber = " ".join(outside_prescriber.split())
    errors = _dose_errors(dose_value, dose_unit, "dose_value", "dose_unit", "Dose")
    if received_as not in ReceivedAs.values:
        errors["received_as"] = "Choose how the order was received: written, verbal or telephone."
    if (ordering_physician is None) == (not outside_prescriber):
        errors["ordering_physician"] = "Choose the ordering physician, or name an outside prescriber (not both)."
    elif ordering_physician is not None and (
        not ordering_physician.is_active or role_of(ordering_physician) != Role.PHYSICIAN
    ):
        errors["ordering_physician"] = "The ordering physician must be an active physician account."
    if received_as in (ReceivedAs.VERBAL, ReceivedAs.TELEPHONE):
        if not read_back_confirmed:
            errors["read_back_confirmed"] = "A verbal or telephone order must be read back and confirmed."
        if ordering_physician is None:
            errors.setdefault(
                "ordering_physician",
                "A verbal or telephone order must come from a physician of the clinic, who co-signs it later.",
            )
    if not medication.strip():
        errors["medication"] = "Enter the medication as written."
    if not order_text.strip():
        errors["order_text"] = "Enter the full order text, verbatim."
    if route not in Route.values:
        errors["route"] = "Choose the route."
    if errors:
        raise ValidationError(errors)
    clinical_time.require_in_visit(session, field="received_at", label="Time received", value=received_at)
    now = timezone.now()
    verbal = received_as != ReceivedAs.WRITTEN
    order = Order(
        session=session,
        ordering_physician=ordering_physician,
        outside_prescriber=outside_prescriber,
        received_as=received_as,
        read_back_confirmed=read_back_confirmed and verbal,
        medication=medication.strip(),
        dose_value=dose_value,
        dose_unit=dose_unit,
        route=route,
        rate_text=rate_text.strip(),
        order_text=order_text.strip(),
        received_at=received_at,
        documented_by=actor.user,
        documented_at=now,
        cosign_due_at=now + timedelta(hours=ClinicSettings.current().verbal_order_cosign_hours) if verbal else None,
        submission_key=submission_key,
    )
    order.full_clean(exclude=["documented_by"] if actor.user is None else None)
    order.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=session.patient,
        record=order,
        changes=diff_fields(
            {},
            {
                "ordering_physician": user_name(ordering_physician) or None,
                "outside_prescriber": outside_prescriber or None,
                "received_as": received_as,
                "read_back_confirmed": order.read_back_confirmed,
                "medication": order.medication,
                "dose_value": dose_value,
                "dose_unit": dose_unit,
                "route": route,
                "rate_text": order.rate_text or None,
                "order_text": order.order_text,
                "received_at": received_at,
                "cosign_due_at": order.cosign_due_at,
            },
        ),
    )
    return order


def _event(
    actor: Actor, administration: Administration, kind: str, at: datetime, reason: str = ""
) -> AdministrationEvent:
    return AdministrationEvent.objects.create(
        session=administration.session,
        administration=administration,
        kind=kind,
        occurred_at=at,
        reason=reason,
        recorded_by=actor.person,
    )


def _lock_administration(actor: Actor, administration: Administration, verb: str) -> tuple[Session, Administration]:
    session = open_session_for_charting(actor, administration.session, verb)
    administration = (
        Administration.objects.select_for_update(no_key=True).select_related("order").get(pk=administration.pk)
    )
    return session, administration


def _check_event_time(session: Session, field: str, at: datetime, after: datetime, label: str) -> None:
    """Inside the visit, and not before `after` (the order's time received, the previous event)."""
    clinical_time.require_in_visit(session, field=field, label=label, value=at, after=[after])


def administration_start(
    *, actor: Actor, order: Order, site: str, lot_number: str, started_at: datetime | None = None
) -> Administration:
    """Start giving an order. Nurses; once per order (rule R4), and refused until the session's
    current screening is cleared or a physician decided to proceed (rule R3).

    A refusal by the screening (StartRefusedByScreening) is audited in its own transaction,
    after this action's transaction has rolled back, so the attempt leaves a trace.
    """
    try:
        return _administration_start(actor=actor, order=order, site=site, lot_number=lot_number, started_at=started_at)
    except StartRefusedByScreening as refusal:
        _audit_start_refused(actor, refusal)
        raise


def _audit_start_refused(actor: Actor, refusal: StartRefusedByScreening) -> None:
    # R6: a refusal of the hard stop is audited. Outside the refused action's transaction (which
    # rolled back); inside a caller's own transaction it shares that transaction's fate.
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.START_REFUSED,
            patient=refusal.patient,
            record=refusal.session,
            changes={"order": [None, str(refusal.order.pk)]},
            reason=str(refusal),
        )


def _screening_refusal(session: Session, order: Order, now: datetime) -> StartRefusedByScreening | None:
    """Rule R3: why the session's current screening does not allow a start now, or None."""

    def refused(message: str) -> StartRefusedByScreening:
        return StartRefusedByScreening(message, session=session, order=order)

    screening = session.screening
    if screening is None:
        return refused("Cannot start: the contraindication screening has not been recorded.")
    if screening.bp_reading.in_error:
        return refused(
            "Cannot start: the screening's blood pressure was marked entered in error after the first start; "
            "nothing more may be started in this session."
        )
    if not screening.allows_administration:
        if screening.decision:
            return refused("Cannot start: the physician decided not to proceed.")
        return refused("Cannot start: screening is held for physician review")
    # The hold belongs to the patient: a hold or "do not proceed" in another session that the
    # clearance did not see (a physician's proceed sees the holds carried until its decision).
    cleared_at = screening.decided_at if screening.decision == ScreeningDecision.PROCEED else None
    unseen = [hold for hold in patient_holds(session, at=now) if cleared_at is None or hold.at > cleared_at]
    if unseen:
        return refused(
            "Cannot start: this patient has a hold in another session that a physician has not decided on here: "
            + " / ".join(hold.text for hold in unseen)
        )
    return None


@transaction.atomic
def _administration_start(
    *, actor: Actor, order: Order, site: str, lot_number: str, started_at: datetime | None
) -> Administration:
    session = open_session_for_charting(actor, order.session, "start")
    # R4: lock the order row; a second start of the same order (a double click, two requests) waits
    # here until the first commits, then sees its administration and is refused.
    order = Order.objects.select_for_update(no_key=True).get(pk=order.pk)
    if order.session_id != session.pk:
        raise ActionRefused("Cannot start: the order belongs to another session.")
    started = Administration.objects.filter(order=order).select_related("started_by").first()
    if started is not None:
        raise ActionRefused(
            f"Cannot start: this order was already started at {timezone.localtime(started.started_at):%H:%M} "
            f"by {user_name(started.started_by)}; document a new order to give more."
        )
    refusal = _screening_refusal(session, order, timezone.now())
    if refusal is not None:
        raise refusal
    workflow.require_step(session, "administer")
    errors = {}
    if not site.strip():
        errors["site"] = "Enter the site or line."
    if not lot_number.strip():
        errors["lot_number"] = "Enter the lot number."
    if errors:
        raise ValidationError(errors)
    started_at = started_at or timezone.now()
    _check_event_time(session, "started_at", started_at, order.received_at, "Start time")
    administration = Administration.objects.create(
        session=session,
        order=order,
        site=site.strip(),
        lot_number=lot_number.strip(),
        started_at=started_at,
        started_by=actor.person,
    )
    _event(actor, administration, AdministrationEventKind.START, started_at)
    # The first start: the session takes the clinic's monitoring protocol for the route, and keeps that version.
    adopted = session_protocol_adopt(session, order.route, started_at)
    audit_record(
        actor=actor,
        action=AuditAction.ADMINISTRATION_START,
        patient=session.patient,
        record=administration,
        changes=diff_fields(
            {},
            {
                "order": order,
                "site": administration.site,
                "lot_number": administration.lot_number,
                "started_at": started_at,
                "monitoring_protocol": str(adopted.version) if adopted else None,
            },
        ),
    )
    if workflow.allowed(session, "start"):
        transition(actor=actor, session=session, step="start", action=AuditAction.ADMINISTRATION_START)
    return administration


def _last_event_time(administration: Administration) -> datetime:
    last = administration.events.order_by("-occurred_at", "-id").first()
    return last.occurred_at if last else administration.started_at


@transaction.atomic
def administration_pause(
    *, actor: Actor, administration: Administration, reason: str, at: datetime | None = None
) -> Administration:
    """Pause a running administration, with a reason. Nurses; session unsigned."""
    session, administration = _lock_administration(actor, administration, "pause")
    if administration.state != AdministrationState.RUNNING:
        raise ActionRefused(f"Cannot pause: the administration is {administration.get_state_display().lower()}.")
    return _pause_or_resume(actor, session, administration, AdministrationEventKind.PAUSE, reason, at)


@transaction.atomic
def administration_resume(
    *, actor: Actor, administration: Administration, reason: str, at: datetime | None = None
) -> Administration:
    """Resume a paused administration, with a reason. Nurses; session unsigned."""
    session, administration = _lock_administration(actor, administration, "resume")
    if administration.state != AdministrationState.PAUSED:
        raise ActionRefused(f"Cannot resume: the administration is {administration.get_state_display().lower()}.")
    return _pause_or_resume(actor, session, administration, AdministrationEventKind.RESUME, reason, at)


def _pause_or_resume(
    actor: Actor,
    session: Session,
    administration: Administration,
    kind: AdministrationEventKind,
    reason: str,
    at: datetime | None,
) -> Administration:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": f"Give the reason to {kind}."})
    at = at or timezone.now()
    _check_event_time(session, "at", at, _last_event_time(administration), f"{kind.title()} time")
    before = administration.state
    administration.state = AdministrationState.PAUSED if kind == "pause" else AdministrationState.RUNNING
    administration.save(update_fields=["state"])
    _event(actor, administration, kind, at, reason)
    audit_record(
        actor=actor,
        action=AuditAction.ADMINISTRATION_PAUSE if kind == "pause" else AuditAction.ADMINISTRATION_RESUME,
        patient=session.patient,
        record=administration,
        changes={"state": [before, administration.state], "at": [None, at.isoformat()]},
        reason=reason,
    )
    return administration


@transaction.atomic
def administration_stop(
    *,
    actor: Actor,
    administration: Administration,
    amount_given_value: str,
    amount_given_unit: str,
    at: datetime | None = None,
    early_reason: str = "",
) -> Administration:
    """Stop an administration and document the amount given, as the nurse documents it. Nurses.

    With `early_reason` the session is marked stopped early. When no other
    administration is still running or paused the session moves to recovery.
    """
    session, administration = _lock_administration(actor, administration, "stop")
    if administration.state == AdministrationState.STOPPED:
        raise ActionRefused("Cannot stop: the administration is already stopped.")
    errors = _dose_errors(
        amount_given_value, amount_given_unit, "amount_given_value", "amount_given_unit", "Amount given"
    )
    if errors:
        raise ValidationError(errors)
    at = at or timezone.now()
    _check_event_time(session, "at", at, _last_event_time(administration), "Stop time")
    before = administration.state
    administration.state = AdministrationState.STOPPED
    administration.stopped_at = at
    administration.stopped_by = actor.user
    administration.amount_given_value = amount_given_value
    administration.amount_given_unit = amount_given_unit
    administration.save()
    early_reason = early_reason.strip()
    _event(actor, administration, AdministrationEventKind.STOP, at, early_reason)
    audit_record(
        actor=actor,
        action=AuditAction.ADMINISTRATION_STOP,
        patient=session.patient,
        record=administration,
        changes={
            "state": [before, "stopped"],
            "stopped_at": [None, at.isoformat()],
            "amount_given": [None, f"{amount_given_value} {amount_given_unit}"],
        },
        reason=early_reason,
    )
    still_running = session.administrations.exclude(state=AdministrationState.STOPPED).exists()
    if early_reason and workflow.allowed(session, "stop_early"):
        transition(
            actor=actor,
            session=session,
            step="stop_early",
            action=AuditAction.ADMINISTRATION_STOP,
            reason=early_reason,
            extra={"exit_kind": ExitKind.STOPPED_EARLY, "exit_reason": early_reason},
        )
    elif not still_running and workflow.allowed(session, "stop"):
        transition(actor=actor, session=session, step="stop", action=AuditAction.ADMINISTRATION_STOP)
    return administration


@transaction.atomic
def order_cosign(*, actor: Actor, order: Order) -> Order:
    """The ordering physician co-signs a verbal or telephone order, also after the session is signed.

    Physicians; only the physician who gave the order, once.
    """
    from records.actions.sessions import require_permission

    require_permission(actor, "cosign_session", "Only a physician may co-sign an order.")
    order = Order.objects.select_for_update(no_key=True).select_related("session__patient").get(pk=order.pk)
    if order.cosign_due_at is None:
        raise ActionRefused("Cannot co-sign: a written order needs no co-signature.")
    if order.cosigned_at is not None:
        raise ActionRefused(f"Cannot co-sign: already co-signed by {user_name(order.cosigned_by)}.")
    if actor.user is None or actor.user.pk != order.ordering_physician_id:
        raise ActionRefused("Cannot co-sign: only the physician who gave the order may co-sign it.")
    order.cosigned_by = actor.user
    order.cosigned_at = timezone.now()
    order.save(update_fields=["cosigned_by", "cosigned_at"])
    audit_record(
        actor=actor,
        action=AuditAction.COSIGN,
        patient=order.session.patient,
        record=order,
        changes={"cosigned_at": [None, order.cosigned_at.isoformat()]},
        reason="verbal order co-signed" if order.received_as == ReceivedAs.VERBAL else "telephone order co-signed",
    )
    return order
