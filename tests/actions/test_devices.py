"""Monitors and their readings, through the actions: matching, duplicates, acceptance, rejection, the lock."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.actions.context import ActionRefused, Actor
from records.actions.devices import (
    LISTENER,
    device_reading_accept,
    device_reading_assign,
    device_reading_dismiss,
    device_reading_receive,
    device_reading_reject,
    monitor_register,
    monitor_set_active,
)
from records.actions.sessions import session_sign
from records.actions.vitals import vitals_record
from records.models import AuditEvent, DeviceReading, Monitor, VitalsReading
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db

LISTENER_ACTOR = Actor(user=None, role="system", username=LISTENER, ip_address="10.0.0.44")
VALUES = {"systolic": 132, "diastolic": 84, "mean_bp": 100, "heart_rate": 78, "spo2": 97, "respiratory_rate": 15}


@pytest.fixture
def monitor(system_actor):
    return monitor_register(actor=system_actor, device_id="0123456789ABCDEF", chair="Chair 4")


def receive(at=None, values=None, identities=("0123456789ABCDEF",)):
    return device_reading_receive(
        actor=LISTENER_ACTOR,
        identities=list(identities),
        measured_at=at or timezone.now(),
        values=values or VALUES,
        message_control_id="MSG-1",
    )


def test_register_and_move_a_monitor_audited(admin_user, nurse):
    admin = actor_for(admin_user)
    monitor = monitor_register(actor=admin, device_id=" ABC123 ", chair="Chair  4 ")
    assert (monitor.device_id, monitor.chair, monitor.registered_by) == ("ABC123", "Chair 4", admin_user)
    moved = monitor_register(actor=admin, device_id="ABC123", chair="Chair 6")
    assert moved.pk == monitor.pk and moved.chair == "Chair 6"
    events = AuditEvent.objects.filter(record_type="monitor", record_id=str(monitor.pk)).order_by("seq")
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].changes == {"chair": ["Chair 4", "Chair 6"]}
    with pytest.raises(ValidationError) as refused:
        monitor_register(actor=admin, device_id="has space", chair="Chair 1")
    assert "no spaces" in str(refused.value)
    with pytest.raises(PermissionDenied):
        monitor_register(actor=actor_for(nurse), device_id="XYZ", chair="Chair 1")


def test_reading_is_offered_to_the_session_in_the_chair(monitor, patient, sessions):
    session = sessions.to(patient, "in_progress", chair="chair 4")  # chair names compare without case
    received = receive()
    assert received.outcome == "offered"
    assert received.reading.session == session and received.reading.state == "pending"
    event = AuditEvent.objects.get(record_type="devicereading")
    assert (event.actor_username, event.ip_address, event.patient_id) == (LISTENER, "10.0.0.44", patient.pk)


@pytest.mark.parametrize("state", ["scheduled", "discharged", "signed"])
def test_reading_is_unmatched_outside_arrival_to_discharge(monitor, patient, sessions, state):
    sessions.to(patient, state, chair="Chair 4")
    received = receive()
    assert received.outcome == "unmatched"
    assert received.reading.session is None
    assert "No session in Chair 4" in received.reading.unmatched_reason


def test_reading_measured_before_arrival_is_unmatched(monitor, patient, sessions):
    sessions.to(patient, "arrived", chair="Chair 4")
    received = receive(at=timezone.now() - timedelta(minutes=20))
    assert received.outcome == "unmatched"
    assert "before the patient" in received.reading.unmatched_reason


def test_duplicates_are_ignored_and_unknown_or_retired_devices_refused(monitor, system_actor):
    at = timezone.now()
    assert receive(at=at).outcome == "unmatched"
    assert receive(at=at).outcome == "duplicate"
    assert receive(at=at, values={**VALUES, "spo2": 96}).outcome == "unmatched"
    assert DeviceReading.objects.count() == 2
    with pytest.raises(ActionRefused, match="Unknown device"):
        receive(identities=["NOPE"])
    monitor_set_active(actor=system_actor, monitor=monitor, active=False)
    with pytest.raises(ActionRefused, match="out of use"):
        receive()


def test_receive_checks_values_and_time(monitor):
    with pytest.raises(ValidationError, match="SpO2 must be between 50 and 100"):
        receive(values={"spo2": 120})
    with pytest.raises(ValidationError, match="diastolic 90 is not below systolic 90"):
        receive(values={"systolic": 90, "diastolic": 90})
    with pytest.raises(ValidationError, match="cannot be in the future"):
        receive(at=timezone.now() + timedelta(minutes=10))
    with pytest.raises(ActionRefused, match="monitor listener only"):
        device_reading_receive(
            actor=Actor(user=None, role="", username="somebody"),
            identities=["0123456789ABCDEF"],
            measured_at=timezone.now(),
            values=VALUES,
            message_control_id="",
        )


def test_accept_charts_through_vitals_record_with_source_device_and_acceptor(monitor, patient, sessions, nurse):
    session = sessions.to(patient, "in_progress", chair="Chair 4")
    pending = receive(values={**VALUES, "pulse_rate": 77, "temperature": Decimal("36.9")}).reading

    vitals = device_reading_accept(actor=actor_for(nurse), reading=pending)

    assert vitals.session == session
    assert (vitals.source, vitals.device_id, vitals.accepted_by, vitals.entered_by) == (
        "device",
        "0123456789ABCDEF",
        nurse,
        nurse,
    )
    assert (vitals.systolic, vitals.diastolic, vitals.heart_rate, vitals.spo2) == (132, 84, 78, 97)
    assert vitals.temperature == Decimal("36.9")
    assert vitals.phase == "during"
    assert vitals.measured_at == pending.measured_at
    pending.refresh_from_db()
    assert (pending.state, pending.vitals_reading, pending.decided_by) == ("accepted", vitals, nurse)
    # The same audit event as a typed reading, then the acceptance.
    created = AuditEvent.objects.get(record_type="vitalsreading", record_id=str(vitals.pk))
    assert created.action == "create" and created.changes["source"] == [None, "device"]
    assert AuditEvent.objects.filter(action="device_accept", record_id=str(pending.pk)).count() == 1
    with pytest.raises(ActionRefused, match="already accepted"):
        device_reading_accept(actor=actor_for(nurse), reading=pending)


def test_pulse_rate_fills_heart_rate_when_no_ecg_rate(monitor, patient, sessions, nurse):
    sessions.to(patient, "recovery", chair="Chair 4")
    pending = receive(values={"pulse_rate": 64, "spo2": 99}).reading
    vitals = device_reading_accept(actor=actor_for(nurse), reading=pending)
    assert (vitals.heart_rate, vitals.spo2, vitals.phase) == (64, 99, "post")


def test_accept_needs_a_nurse_and_a_session_in_the_chair(monitor, patient, sessions, nurse, physician):
    session = sessions.to(patient, "in_progress", chair="Chair 4")
    pending = receive().reading
    with pytest.raises(PermissionDenied):
        device_reading_accept(actor=actor_for(physician), reading=pending)
    unmatched = receive(values={"heart_rate": 80}, at=timezone.now() - timedelta(hours=2)).reading
    with pytest.raises(ActionRefused, match="assign it first"):
        device_reading_accept(actor=actor_for(nurse), reading=unmatched)
    # After discharge nothing more is charted: the reading must be rejected before signing.
    from records.actions.medications import administration_stop
    from records.actions.side_effects import discharge_record

    administration_stop(
        actor=actor_for(nurse), administration=sessions.administration, amount_given_value="35", amount_given_unit="mg"
    )
    vitals_record(
        actor=actor_for(nurse),
        session=session,
        measured_at=timezone.now(),
        phase="post",
        systolic=120,
        diastolic=80,
        moaas=5,
        dissociation="none",
    )
    discharge_record(
        actor=actor_for(nurse),
        session=session,
        alert_and_oriented=True,
        vitals_near_baseline=True,
        steady_walking=True,
        escort_present_not_driving=True,
    )
    with pytest.raises(ActionRefused, match="vitals are charted from arrival to discharge"):
        device_reading_accept(actor=actor_for(nurse), reading=pending)
    with pytest.raises(ActionRefused, match="await a decision"):
        session_sign(actor=actor_for(nurse), session=session)
    device_reading_reject(actor=actor_for(nurse), reading=pending, reason="other", note="Not reviewed before discharge")
    session_sign(actor=actor_for(nurse), session=session)


def test_limits_and_flags_are_those_of_a_typed_reading(monitor, patient, sessions, nurse):
    sessions.to(patient, "in_progress", chair="Chair 4")
    pending = receive(values={"systolic": 182, "diastolic": 104}).reading
    vitals = device_reading_accept(actor=actor_for(nurse), reading=pending)
    typed = vitals_record(
        actor=actor_for(nurse),
        session=vitals.session,
        measured_at=timezone.now(),
        phase="during",
        systolic=182,
        diastolic=104,
    )
    # Stored alike; the page flags both by the clinic's ranges (records.views.sessions.page.flag_readings).
    assert (vitals.systolic, vitals.diastolic) == (typed.systolic, typed.diastolic)
    assert (vitals.source, typed.source) == ("device", "typed")


def test_reject_needs_a_reason_from_the_list(monitor, patient, sessions, nurse):
    sessions.to(patient, "in_progress", chair="Chair 4")
    pending = receive().reading
    actor = actor_for(nurse)
    with pytest.raises(ValidationError, match="Choose why"):
        device_reading_reject(actor=actor, reading=pending, reason="bored")
    with pytest.raises(ValidationError, match="Say why"):
        device_reading_reject(actor=actor, reading=pending, reason="other", note="  ")
    rejected = device_reading_reject(actor=actor, reading=pending, reason="cuff_off")
    assert (rejected.state, rejected.reject_reason, rejected.vitals_reading) == ("rejected", "cuff_off", None)
    event = AuditEvent.objects.get(action="device_reject")
    assert event.reason == "Cuff off" and event.patient_id == patient.pk
    with pytest.raises(ActionRefused, match="already rejected"):
        device_reading_accept(actor=actor, reading=pending)
    assert not VitalsReading.objects.filter(source="device").exists()


def test_assign_and_dismiss_unmatched_readings(monitor, patient, sessions, nurse):
    first = receive(values={"heart_rate": 81}).reading
    second = receive(values={"heart_rate": 82}).reading
    session = sessions.to(patient, "in_progress", chair="Chair 9")
    actor = actor_for(nurse)
    early = receive(values={"heart_rate": 83}, at=timezone.now() - timedelta(hours=1)).reading
    with pytest.raises(ActionRefused, match="measured before this patient arrived"):
        device_reading_assign(actor=actor, reading=early, session=session)

    assigned = device_reading_assign(actor=actor, reading=first, session=session)
    assert (assigned.session, assigned.state) == (session, "pending")
    assert AuditEvent.objects.get(action="device_assign").patient_id == patient.pk
    device_reading_accept(actor=actor, reading=assigned)

    with pytest.raises(ValidationError, match="Say why"):
        device_reading_dismiss(actor=actor, reading=second, reason=" ")
    dismissed = device_reading_dismiss(actor=actor, reading=second, reason="Monitor test before the clinic opened")
    assert dismissed.state == "dismissed" and dismissed.session is None
    assert AuditEvent.objects.get(action="device_dismiss").reason == "Monitor test before the clinic opened"


def test_readings_of_a_signed_session_are_locked_in_the_database(monitor, patient, sessions, nurse):
    session = sessions.to(patient, "in_progress", chair="Chair 4")
    reading = receive().reading
    device_reading_reject(actor=actor_for(nurse), reading=reading, reason="artefact")
    signed = sessions.to(patient, "signed", chair="Chair 2")
    DeviceReading.objects.filter(pk=reading.pk).update(session=session)  # still unsigned: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        DeviceReading.objects.filter(pk=reading.pk).update(session=signed)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeviceReading.objects.create(
            monitor=monitor,
            device_id=monitor.device_id,
            chair="Chair 2",
            session=signed,
            measured_at=timezone.now(),
            received_at=timezone.now(),
            message_control_id="X",
            values_key="late",
            heart_rate=70,
        )
    assert Monitor.objects.count() == 1
