"""Bedside monitors: registering them at chairs, and the readings they send.

A reading from a monitor is only offered: it is charted when a nurse accepts it,
through `vitals_record`, the same action as a typed reading (same limits, flags,
audit event and signed-session lock). Rejected, dismissed and pending readings
never reach the flowsheet, its chart, the print or any export, which all read
VitalsReading only.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.actions.context import ActionRefused, Actor
from records.actions.sessions import check_past, open_session_for_charting, require_permission
from records.actions.vitals import vitals_record
from records.audit import audit_record, diff_fields
from records.devices.pcd01 import bp_problem, value_problem
from records.models import (
    AuditAction,
    DeviceReading,
    DeviceReadingState,
    Monitor,
    Phase,
    RejectReason,
    Session,
    Source,
    VitalsReading,
)
from records.models.devices import DEVICE_VITALS
from records.vital_limits import CLOCK_SKEW_SECONDS
from records.workflow import IN_CHAIR

LISTENER = "monitor_listener"
DeviceValue = int | Decimal


def _chair(text: str) -> str:
    return " ".join(text.split())


@transaction.atomic
def monitor_register(*, actor: Actor, device_id: str, chair: str) -> Monitor:
    """Register a monitor at a chair, or move a registered one to another chair (and make it active).

    Admins, or a set-up command (system actor). No patient data is involved.
    """
    require_permission(actor, "add_monitor", "Only an admin may register monitors.")
    device_id, chair = device_id.strip(), _chair(chair)
    errors: dict[str, str] = {}
    if not device_id or any(ch.isspace() for ch in device_id):
        errors["device_id"] = "Enter the device identity exactly as its messages carry it (no spaces)."
    elif len(device_id) > Monitor._meta.get_field("device_id").max_length:  # type: ignore[operator]
        errors["device_id"] = "A device identity has at most 199 characters."
    if not chair:
        errors["chair"] = "Enter the chair the monitor stands at, as the sessions name it (e.g. Chair 4)."
    elif len(chair) > 40:
        errors["chair"] = "A chair name has at most 40 characters."
    if errors:
        raise ValidationError(errors)
    monitor = Monitor.objects.select_for_update(no_key=True).filter(device_id=device_id).first()
    if monitor is None:
        monitor = Monitor.objects.create(
            device_id=device_id,
            chair=chair,
            registered_at=timezone.now(),
            registered_by=actor.user,
            registered_by_name=actor.username or "system",
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            record=monitor,
            changes=diff_fields({}, {"device_id": device_id, "chair": chair, "active": True}),
        )
        return monitor
    before = {"chair": monitor.chair, "active": monitor.active}
    if before == {"chair": chair, "active": True}:
        raise ValidationError({"device_id": f"{device_id} is already registered at {chair}."})
    monitor.chair, monitor.active = chair, True
    monitor.save(update_fields=["chair", "active"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        record=monitor,
        changes=diff_fields(before, {"chair": chair, "active": True}),
    )
    return monitor


@transaction.atomic
def monitor_set_active(*, actor: Actor, monitor: Monitor, active: bool) -> Monitor:
    """Take a monitor out of use (its messages are then refused) or back into use. Admins."""
    require_permission(actor, "change_monitor", "Only an admin may change monitors.")
    monitor = Monitor.objects.select_for_update(no_key=True).get(pk=monitor.pk)
    if monitor.active == active:
        raise ActionRefused(f"{monitor.device_id} is already {'in use' if active else 'out of use'}.")
    monitor.active = active
    monitor.save(update_fields=["active"])
    audit_record(
        actor=actor,
        action=AuditAction.REACTIVATE if active else AuditAction.DEACTIVATE,
        record=monitor,
        changes={"active": [not active, active]},
    )
    return monitor


@dataclass(frozen=True)
class Received:
    """What became of one set of values: offered to a session, kept unmatched, or a duplicate ignored."""

    outcome: str  # "offered" | "unmatched" | "duplicate"
    reading: DeviceReading | None
    monitor: Monitor

    @property
    def summary(self) -> str:
        if self.reading is None:
            return "already received (duplicate ignored)"
        if self.outcome == "offered":
            return f"offered for acceptance in {self.reading.chair}"
        return f"kept as unmatched: {self.reading.unmatched_reason}"


def find_monitor(identities: Sequence[str]) -> Monitor:
    """The registered monitor a message names, trying its identities in order."""
    candidates = [i for i in identities if i]
    found = {m.device_id: m for m in Monitor.objects.filter(device_id__in=candidates)}
    for identity in candidates:
        monitor = found.get(identity)
        if monitor is not None:
            if not monitor.active:
                raise ActionRefused(f"Monitor {identity} is registered but out of use.")
            return monitor
    shown = ", ".join(repr(i) for i in candidates) or "none"
    raise ActionRefused(f"Unknown device (identities in the message: {shown}): an admin registers it at a chair.")


def check_device_values(values: Mapping[str, DeviceValue]) -> None:
    """The same rules the listener applies value by value (records.devices.pcd01), as a guard here."""
    unknown = set(values) - set(DEVICE_VITALS)
    if unknown:
        raise TypeError(f"Not a device vital: {sorted(unknown)}")
    errors = {
        vital: problem
        for vital, value in values.items()
        if (problem := value_problem(vital, Decimal(value))) is not None
    }
    pair = bp_problem(dict(values))
    if pair:
        errors.setdefault("systolic", pair)
    if not values:
        errors["__all__"] = "A device reading carries at least one value."
    if errors:
        raise ValidationError(errors)


def _match_session(chair: str, measured_at: datetime) -> tuple[Session | None, str]:
    """The session in `chair` between arrival and discharge, or None and why not."""
    in_chair = list(Session.objects.filter(chair__iexact=chair, status__in=IN_CHAIR).select_related("patient")[:2])
    if not in_chair:
        return None, f"No session in {chair} between arrival and discharge when it arrived."
    if len(in_chair) > 1:
        return None, f"More than one session in {chair} at once: assign it to the right one."
    session = in_chair[0]
    skew = timedelta(seconds=CLOCK_SKEW_SECONDS)
    if session.arrived_at is not None and measured_at < session.arrived_at - skew:
        return None, f"Measured before the patient now in {chair} arrived."
    return session, ""


@transaction.atomic
def device_reading_receive(
    *,
    actor: Actor,
    identities: Sequence[str],
    measured_at: datetime,
    values: Mapping[str, DeviceValue],
    message_control_id: str,
) -> Received:
    """Keep one set of values a monitor sent. The listener only (system actor).

    Offered to the session in the monitor's chair if there is one between arrival
    and discharge (and it was measured after that patient arrived); otherwise kept
    as unmatched, for a nurse to assign or dismiss. The same device, time and
    values again is a duplicate: ignored, nothing written.
    """
    if not actor.is_system:
        raise ActionRefused("Device readings arrive from the monitor listener only.")
    monitor = find_monitor(identities)
    check_past("measured_at", measured_at, "Measured-at time (check the monitor's clock)")
    check_device_values(values)
    clean = {k: (Decimal(v).quantize(Decimal("0.1")) if k == "temperature" else int(v)) for k, v in values.items()}
    key = DeviceReading.key_for(clean)
    duplicate = DeviceReading.objects.filter(device_id=monitor.device_id, measured_at=measured_at, values_key=key)
    if duplicate.exists():
        return Received("duplicate", None, monitor)
    session, why = _match_session(monitor.chair, measured_at)
    reading = DeviceReading(
        monitor=monitor,
        device_id=monitor.device_id,
        chair=monitor.chair,
        session=session,
        unmatched_reason=why,
        measured_at=measured_at,
        received_at=timezone.now(),
        message_control_id=message_control_id[:199],
        values_key=key,
        **clean,
    )
    try:
        with transaction.atomic():
            reading.save(force_insert=True)
    except IntegrityError:
        # The same message at the same moment on another connection: it won the race.
        if duplicate.exists():
            return Received("duplicate", None, monitor)
        raise
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        patient=session.patient if session else None,
        record=reading,
        changes=diff_fields(
            {},
            {
                "device_id": monitor.device_id,
                "chair": monitor.chair,
                "session": session,
                "measured_at": measured_at,
                "message_control_id": reading.message_control_id,
                **clean,
            },
        ),
        reason=why,
    )
    return Received("offered" if session else "unmatched", reading, monitor)


def phase_at(session: Session, measured_at: datetime) -> str:
    """Pre, during or post: where `measured_at` falls against the session's administrations."""
    administrations = list(session.administrations.all())
    if not administrations or measured_at < min(a.started_at for a in administrations):
        return Phase.PRE
    if any(
        a.started_at <= measured_at and (a.stopped_at is None or measured_at <= a.stopped_at) for a in administrations
    ):
        return Phase.DURING
    return Phase.POST


def _lock_pending(reading: DeviceReading, verb: str) -> DeviceReading:
    current = DeviceReading.objects.select_for_update(no_key=True).get(pk=reading.pk)
    if current.state != DeviceReadingState.PENDING:
        raise ActionRefused(f"Cannot {verb}: this reading was already {current.get_state_display().lower()}.")
    return current


def _decided(reading: DeviceReading, actor: Actor, state: DeviceReadingState) -> None:
    reading.state = state
    reading.decided_at = timezone.now()
    reading.decided_by = actor.person


@transaction.atomic
def device_reading_accept(*, actor: Actor, reading: DeviceReading, phase: str | None = None) -> VitalsReading:
    """Chart a pending device reading. Nurses; the reading's session must be in the chair and unsigned.

    Creates the vitals row through `vitals_record` (source "device", the device's
    identity, the nurse as acceptor), so every rule for a typed reading holds.
    The phase is where the measured time falls against the administrations.
    """
    if reading.session_id is None:
        raise ActionRefused("Cannot accept: this reading is not matched to a session; assign it first.")
    session = open_session_for_charting(actor, Session(pk=reading.session_id), "accept a device reading")
    reading = _lock_pending(reading, "accept")
    if reading.session_id != session.pk:
        raise ActionRefused("Cannot accept: this reading belongs to another session.")
    vitals = vitals_record(
        actor=actor,
        session=session,
        measured_at=reading.measured_at,
        phase=phase or phase_at(session, reading.measured_at),
        source=Source.DEVICE,
        device_id=reading.device_id,
        **reading.charted_values(),  # type: ignore[arg-type]
    )
    _decided(reading, actor, DeviceReadingState.ACCEPTED)
    reading.vitals_reading = vitals
    reading.save(update_fields=["state", "decided_at", "decided_by", "vitals_reading"])
    audit_record(
        actor=actor,
        action=AuditAction.DEVICE_ACCEPT,
        patient=session.patient,
        record=reading,
        changes={"state": ["pending", "accepted"], "vitals_reading": [None, str(vitals.pk)]},
    )
    return vitals


@transaction.atomic
def device_reading_reject(*, actor: Actor, reading: DeviceReading, reason: str, note: str = "") -> DeviceReading:
    """Decline a pending device reading with a reason (artefact, patient moving, cuff off, other + text).

    Nurses; the session must be unsigned. The reading stays, rejected, and is never charted.
    """
    if reading.session_id is None:
        raise ActionRefused("Cannot reject: this reading is not matched to a session; dismiss it instead.")
    session = open_session_for_charting(actor, Session(pk=reading.session_id), "reject a device reading")
    reading = _lock_pending(reading, "reject")
    note = " ".join(note.split())
    if reason not in RejectReason.values:
        raise ValidationError({"reason": "Choose why: artefact, patient moving, cuff off, or other."})
    if reason == RejectReason.OTHER and not note:
        raise ValidationError({"note": "Say why the reading is rejected."})
    if len(note) > 500:
        raise ValidationError({"note": "At most 500 characters."})
    _decided(reading, actor, DeviceReadingState.REJECTED)
    reading.reject_reason, reading.decision_note = reason, note
    reading.save(update_fields=["state", "decided_at", "decided_by", "reject_reason", "decision_note"])
    label = RejectReason(reason).label
    audit_record(
        actor=actor,
        action=AuditAction.DEVICE_REJECT,
        patient=session.patient,
        record=reading,
        changes={"state": ["pending", "rejected"]},
        reason=f"{label}: {note}" if note else label,
    )
    return reading


@transaction.atomic
def device_reading_assign(*, actor: Actor, reading: DeviceReading, session: Session) -> DeviceReading:
    """Offer an unmatched reading to a session after all. Nurses; the patient in the chair, session unsigned.

    The reading must have been measured after the patient arrived. It is then
    pending on that session, to accept or reject as any other.
    """
    session = open_session_for_charting(actor, session, "assign a device reading")
    if session.status not in IN_CHAIR:
        raise ActionRefused(
            f"Cannot assign: the session is {session.get_status_display().lower()}; "
            "readings go to a session between arrival and discharge."
        )
    reading = _lock_pending(reading, "assign")
    if reading.session_id is not None:
        raise ActionRefused("Cannot assign: this reading is already offered to a session.")
    skew = timedelta(seconds=CLOCK_SKEW_SECONDS)
    if session.arrived_at is not None and reading.measured_at < session.arrived_at - skew:
        raise ActionRefused("Cannot assign: it was measured before this patient arrived.")
    reading.session = session
    reading.save(update_fields=["session"])
    audit_record(
        actor=actor,
        action=AuditAction.DEVICE_ASSIGN,
        patient=session.patient,
        record=reading,
        changes={"session": [None, str(session.pk)]},
        reason=reading.unmatched_reason,
    )
    return reading


@transaction.atomic
def device_reading_dismiss(*, actor: Actor, reading: DeviceReading, reason: str) -> DeviceReading:
    """Set aside an unmatched reading with a reason (e.g. "monitor test", "no patient"). Nurses.

    It stays in the database, dismissed, and is never charted.
    """
    require_permission(actor, "chart_session", "Only a nurse may dismiss a device reading.")
    reading = _lock_pending(reading, "dismiss")
    if reading.session_id is not None:
        raise ActionRefused("Cannot dismiss: this reading is offered to a session; reject it there instead.")
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Say why the reading is dismissed."})
    if len(reason) > 500:
        raise ValidationError({"reason": "At most 500 characters."})
    _decided(reading, actor, DeviceReadingState.DISMISSED)
    reading.decision_note = reason
    reading.save(update_fields=["state", "decided_at", "decided_by", "decision_note"])
    audit_record(
        actor=actor,
        action=AuditAction.DEVICE_DISMISS,
        record=reading,
        changes={"state": ["pending", "dismissed"]},
        reason=reason,
    )
    return reading


@transaction.atomic
def unmatched_readings_view(*, actor: Actor, session_count: int) -> None:
    """Record that a nurse opened the unmatched list (it names the patients in the chairs, to assign to)."""
    require_permission(actor, "view_devicereading", "Only nurses see readings no session has claimed.")
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        record_type="unmatched_device_readings",
        changes={"sessions": [None, session_count]},
    )


@transaction.atomic
def device_readings_view(*, actor: Actor, session: Session, pending: int) -> None:
    """Record that the session page's monitor section showed new pending readings (rule R6).

    The section is polled; it answers 204, and writes nothing, while nothing changed, so
    an event is written only when new values were shown.
    """
    require_permission(actor, "view_session")
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        patient=session.patient,
        record=session,
        record_type="device_readings",
        changes={"pending": [None, pending]},
    )


@transaction.atomic
def board_device_readings_view(*, actor: Actor, pending: int) -> None:
    """Record that the board's monitor panel showed new pending readings (it names the chairs' patients)."""
    require_permission(actor, "view_session")
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        record_type="board_device_readings",
        changes={"pending": [None, pending]},
    )
