"""Monitoring protocols over time: each default protocol's checkpoints turn upcoming, due, overdue or done
as the clock moves (time-machine), the session keeps the version it took, and the database keeps versions."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from records.actions.context import ActionRefused
from records.actions.medications import administration_start, administration_stop
from records.actions.protocols import checkpoint_missed_reason, protocol_create, protocol_update
from records.actions.vitals import vitals_record
from records.models import AuditEvent, MonitoringProtocol, ProtocolVersion, Session, SessionProtocol
from records.models.vitals import CADSS6_ITEMS
from records.monitoring import (
    DEFAULT_PROTOCOLS,
    current_versions,
    protocol_discharge_findings,
    requirement_field_names,
    session_monitoring,
)
from tests.conftest import CLINIC_DAY, actor_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_protocols")]

START = CLINIC_DAY.replace(hour=11, tzinfo=ZoneInfo(settings.TIME_ZONE))
# Every value any checkpoint may ask for.
FULL = {
    "systolic": 124,
    "diastolic": 78,
    "heart_rate": 72,
    "spo2": 98,
    "respiratory_rate": 14,
    "pain": 2,
    "moaas": 5,
    **dict.fromkeys(CADSS6_ITEMS, 0),
}
ORDERS = {
    "iv_infusion": {"medication": "Ketamine", "dose_value": "0.5", "dose_unit": "mg/kg/h"},
    "intranasal": {"medication": "Esketamine nasal spray", "dose_value": "56", "dose_unit": "mg"},
    "im_injection": {"medication": "Ketamine", "dose_value": "50", "dose_unit": "mg"},
    "oral_troche": {"medication": "Ketamine troche", "dose_value": "100", "dose_unit": "mg"},
}


def at(minutes: float):
    """The clock stopped `minutes` after the first start."""
    return time_machine.travel(START + timedelta(minutes=minutes), tick=False)


def started(sessions, patient, nurse, route: str) -> Session:
    """A session of `route` that arrived 30 min before START, charted its pre reading, and started at START."""
    with at(-30):
        session = sessions.to(patient, "cleared", planned_route=route)
    chart(session, nurse, -10, phase="pre")
    with at(0):
        fields = ORDERS[route]
        order = sessions.order(
            session,
            route=route,
            order_text=f"{fields['medication']} {fields['dose_value']} {fields['dose_unit']}",
            **fields,
        )
        administration_start(actor=actor_for(nurse), order=order, site="L forearm", lot_number="LOT-7")
    return Session.objects.get(pk=session.pk)


def chart(session, nurse, minutes: float, phase: str = "during", **values) -> None:
    with at(minutes):
        vitals_record(
            actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase=phase, **(values or FULL)
        )


def stop(session, nurse, minutes: float) -> None:
    with at(minutes):
        administration_stop(
            actor=actor_for(nurse),
            administration=session.administrations.get(),
            amount_given_value="35",
            amount_given_unit="mg",
        )


def state(session, minutes: float, key: str) -> str:
    with at(minutes):
        monitoring = session_monitoring(Session.objects.get(pk=session.pk), timezone.now())
    assert monitoring is not None
    return next(c for c in monitoring.checkpoints if c.key == key).state


def first_timed(route: str) -> tuple[str, dict]:
    """The first checkpoint counted from the start in the route's default protocol, and its key."""
    spec = next(p for p in DEFAULT_PROTOCOLS if route in p["routes"])
    index, checkpoint = next((i, c) for i, c in enumerate(spec["checkpoints"]) if c["anchor"] == "start")
    return (f"{index}.1" if checkpoint["every"] else str(index)), checkpoint


ROUTES = ["iv_infusion", "intranasal", "im_injection", "oral_troche"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_checkpoint_never_charted_turns_due_then_overdue(sessions, patient, nurse, route):
    session = started(sessions, patient, nurse, route)
    key, cp = first_timed(route)
    assert session.session_protocol.version.protocol.name == next(
        p["name"] for p in DEFAULT_PROTOCOLS if route in p["routes"]
    )
    assert state(session, cp["window_start"] - 1, key) == "upcoming"
    assert state(session, cp["offset"], key) == "due"
    assert state(session, cp["window_end"], key) == "due"
    assert state(session, cp["window_end"] + 1, key) == "overdue"
    assert state(session, cp["window_end"] + 90, key) == "overdue"


@pytest.mark.parametrize("route", ROUTES)
def test_a_checkpoint_charted_on_time_is_done(sessions, patient, nurse, route):
    session = started(sessions, patient, nurse, route)
    key, cp = first_timed(route)
    chart(session, nurse, cp["offset"])
    assert state(session, cp["offset"], key) == "done"
    assert state(session, cp["window_end"] + 60, key) == "done"


@pytest.mark.parametrize("route", ROUTES)
def test_a_checkpoint_charted_early_is_not_done(sessions, patient, nurse, route):
    session = started(sessions, patient, nurse, route)
    key, cp = first_timed(route)
    chart(session, nurse, cp["window_start"] - 2)
    assert state(session, cp["offset"], key) == "due"
    assert state(session, cp["window_end"] + 1, key) == "overdue"


@pytest.mark.parametrize("route", ROUTES)
def test_a_checkpoint_charted_late_stays_overdue(sessions, patient, nurse, route):
    session = started(sessions, patient, nurse, route)
    key, cp = first_timed(route)
    chart(session, nurse, cp["window_end"] + 2)
    assert state(session, cp["window_end"] + 3, key) == "overdue"


def test_a_reading_without_every_required_value_does_not_count(sessions, patient, nurse):
    session = started(sessions, patient, nurse, "intranasal")
    key, _cp = first_timed("intranasal")  # BP, SpO2, MOAA/S and CADSS-6
    chart(session, nurse, 40, systolic=150, diastolic=90, spo2=97, moaas=5)  # no CADSS-6
    assert state(session, 41, key) == "due"
    chart(session, nurse, 42)
    assert state(session, 43, key) == "done"


def test_a_reading_entered_in_error_does_not_count(sessions, patient, nurse):
    from records.actions.vitals import vitals_mark_entered_in_error

    session = started(sessions, patient, nurse, "intranasal")
    chart(session, nurse, 40)
    assert state(session, 41, "1") == "done"
    with at(42):
        vitals_mark_entered_in_error(
            actor=actor_for(nurse), reading=session.readings.latest("measured_at"), reason="Wrong patient"
        )
    assert state(session, 43, "1") == "due"


def test_iv_protocol_repeats_while_running_then_counts_from_the_stop(sessions, patient, nurse):
    session = started(sessions, patient, nurse, "iv_infusion")
    assert state(session, -5, "0") == "done"  # the pre reading, before the start
    chart(session, nurse, 15)
    chart(session, nurse, 29)
    with at(29.5):  # the next one, 15 min ahead, is listed as soon as this one is done
        assert session_monitoring(Session.objects.get(pk=session.pk), timezone.now()).next.key == "1.3"
    with at(37):
        monitoring = session_monitoring(Session.objects.get(pk=session.pk), timezone.now())
    repeats = [c for c in monitoring.checkpoints if c.key.startswith("1.")]
    assert [(c.key, c.state) for c in repeats] == [("1.1", "done"), ("1.2", "done"), ("1.3", "upcoming")]
    assert monitoring.next.key == "1.3"
    assert monitoring.next.due_at == START + timedelta(minutes=45)
    assert monitoring.elapsed == timedelta(minutes=37)
    # Counted from the stop only once it happened.
    assert next(c for c in monitoring.checkpoints if c.key == "2").due_at is None
    stop(session, nurse, 40)
    assert [c.key for c in session_monitoring(Session.objects.get(pk=session.pk), START).checkpoints].count("1.3") == 0
    assert state(session, 49, "2") == "upcoming"
    assert state(session, 55, "2") == "due"
    chart(session, nurse, 56, phase="post")
    assert state(session, 57, "2") == "done"
    assert state(session, 76, "3") == "overdue"


def test_discharge_waits_for_the_minimum_observation_and_the_before_discharge_checkpoint(sessions, patient, nurse):
    session = started(sessions, patient, nurse, "intranasal")
    chart(session, nurse, 40)
    stop(session, nurse, 5)
    with at(100):
        findings = protocol_discharge_findings(Session.objects.get(pk=session.pk), timezone.now())
    assert len(findings) == 2
    assert "Minimum observation of 120 min" in findings[0] and "20 min to go" in findings[0]
    assert "Before discharge" in findings[1] and "BP, SpO2, MOAA/S, CADSS-6" in findings[1]
    assert state(session, 100, "2") == "upcoming"
    assert state(session, 106, "2") == "due"  # its window opens 15 min before the earliest discharge
    chart(session, nurse, 118, phase="post")
    with at(119):
        findings = protocol_discharge_findings(Session.objects.get(pk=session.pk), timezone.now())
    assert findings == [f for f in findings if "Minimum observation" in f] and len(findings) == 1
    with at(121):
        assert protocol_discharge_findings(Session.objects.get(pk=session.pk), timezone.now()) == []


def test_an_edited_protocol_does_not_change_a_running_session(sessions, patient, nurse, admin_user, make_patient):
    running = started(sessions, patient, nurse, "intranasal")
    taken = running.session_protocol.version
    spec = next(p for p in DEFAULT_PROTOCOLS if p["name"] == "Intranasal esketamine")
    edited = [dict(c) for c in spec["checkpoints"]]
    edited[1].update(name="60 min after the first device", offset=60, window_start=55, window_end=70)
    with at(10):
        protocol_update(
            actor=actor_for(admin_user),
            protocol=taken.protocol,
            name=taken.protocol.name,
            active=True,
            routes=["intranasal"],
            min_observation_minutes=150,
            checkpoints=edited,
            reason="New clinic policy",
        )
    assert list(taken.protocol.versions.values_list("number", flat=True)) == [1, 2]
    running = Session.objects.get(pk=running.pk)
    assert running.session_protocol.version == taken
    assert state(running, 41, "1") == "due"  # still the 40-minute checkpoint
    with at(100):
        assert "120 min" in protocol_discharge_findings(running, timezone.now())[0]
    later = started(sessions, make_patient(), nurse, "intranasal")
    assert later.session_protocol.version.number == 2
    assert state(later, 41, "1") == "upcoming"
    event = AuditEvent.objects.filter(record_type="monitoringprotocol", action="update").get()
    assert event.changes["min_observation_minutes"] == [120, 150]
    assert event.changes["version"] == [1, 2]
    assert event.reason == "New clinic policy"


def test_a_checkpoint_has_no_place_for_a_dose(admin_user):
    spec = DEFAULT_PROTOCOLS[0]
    checkpoints = [{**c} for c in spec["checkpoints"]]
    checkpoints[1]["dose"] = "0.5 mg/kg"
    protocol = MonitoringProtocol.objects.get(name=spec["name"])
    with pytest.raises(ValidationError) as refused:
        protocol_update(
            actor=actor_for(admin_user),
            protocol=protocol,
            name=protocol.name,
            active=True,
            routes=spec["routes"],
            min_observation_minutes=60,
            checkpoints=checkpoints,
        )
    assert "not dose" in str(refused.value)
    assert protocol.versions.count() == 1


def test_bad_checkpoints_are_refused_naming_the_field_and_accepted_values(admin_user):
    with pytest.raises(ValidationError) as refused:
        protocol_create(
            actor=actor_for(admin_user),
            name="Ward protocol",
            routes=["iv_infusion", "rectal"],
            min_observation_minutes=900,
            checkpoints=[{"name": "", "anchor": "lunch", "offset": "x", "window_start": 0, "requires": ["mood"]}],
        )
    errors = refused.value.message_dict
    assert "iv_infusion, im_injection, intranasal, oral_troche" in errors["routes"][0]
    assert "0 to 720" in errors["min_observation_minutes"][0]
    text = " ".join(errors["checkpoints"])
    assert "arrival, start, stop, discharge" in text and "whole minutes" in text and "bp, heart_rate" in text
    assert not MonitoringProtocol.objects.filter(name="Ward protocol").exists()


def test_two_active_protocols_cannot_cover_one_route(admin_user):
    with pytest.raises(ValidationError) as refused:
        protocol_create(
            actor=actor_for(admin_user),
            name="Second IV",
            routes=["iv_infusion"],
            min_observation_minutes=30,
            checkpoints=[DEFAULT_PROTOCOLS[0]["checkpoints"][0]],
        )
    assert "already follows" in refused.value.message_dict["routes"][0]


@pytest.mark.parametrize("role", ["nurse", "physician"])
def test_only_an_admin_changes_protocols(make_user, role):
    protocol = MonitoringProtocol.objects.first()
    version = protocol.versions.get()
    with pytest.raises(PermissionDenied):
        protocol_update(
            actor=actor_for(make_user(role)),
            protocol=protocol,
            name="Mine",
            active=True,
            routes=version.routes,
            min_observation_minutes=0,
            checkpoints=version.checkpoints,
        )


def test_without_an_active_protocol_the_session_has_none(sessions, patient, nurse, admin_user):
    protocol = MonitoringProtocol.objects.get(name="Oral ketamine troche")
    version = protocol.versions.get()
    protocol_update(
        actor=actor_for(admin_user),
        protocol=protocol,
        name=protocol.name,
        active=False,
        routes=version.routes,
        min_observation_minutes=version.min_observation_minutes,
        checkpoints=version.checkpoints,
    )
    assert "oral_troche" not in current_versions()
    session = started(sessions, patient, nurse, "oral_troche")
    assert not SessionProtocol.objects.filter(session=session).exists()
    assert session_monitoring(session, START) is None
    assert protocol_discharge_findings(session, START) == []


def test_a_missed_checkpoint_keeps_the_nurses_reason(sessions, patient, nurse, physician):
    session = started(sessions, patient, nurse, "intranasal")
    with at(45), pytest.raises(ActionRefused, match="due, not overdue"):
        checkpoint_missed_reason(actor=actor_for(nurse), session=session, checkpoint_key="1", reason="Asleep")
    with at(55), pytest.raises(PermissionDenied):
        checkpoint_missed_reason(actor=actor_for(physician), session=session, checkpoint_key="1", reason="x")
    with at(55), pytest.raises(ValidationError):
        checkpoint_missed_reason(actor=actor_for(nurse), session=session, checkpoint_key="1", reason="  ")
    with at(55):
        miss = checkpoint_missed_reason(
            actor=actor_for(nurse), session=session, checkpoint_key="1", reason="Patient in the bathroom"
        )
    assert miss.checkpoint_name == "40 min after the first device"
    assert miss.due_at == START + timedelta(minutes=40)
    with at(56):
        monitoring = session_monitoring(Session.objects.get(pk=session.pk), timezone.now())
    checkpoint = next(c for c in monitoring.checkpoints if c.key == "1")
    assert (checkpoint.state, checkpoint.miss.reason) == ("overdue", "Patient in the bathroom")
    event = AuditEvent.objects.get(action="checkpoint_missed")
    assert (event.patient_id, event.reason, event.actor_id) == (patient.pk, "Patient in the bathroom", nurse.pk)
    with at(57), pytest.raises(ActionRefused, match="already recorded"):
        checkpoint_missed_reason(actor=actor_for(nurse), session=session, checkpoint_key="1", reason="Again")


def test_the_database_keeps_protocol_versions_and_what_a_session_took(sessions, patient, nurse):
    # The database refuses: its triggers for the owner, and for the application role already its grants.
    session = started(sessions, patient, nurse, "iv_infusion")
    taken = session.session_protocol.version
    with pytest.raises(DatabaseError), transaction.atomic():
        ProtocolVersion.objects.filter(pk=taken.pk).update(min_observation_minutes=5)
    with pytest.raises(DatabaseError), transaction.atomic():
        ProtocolVersion.objects.filter(pk=taken.pk).delete()
    other = SessionProtocol.objects.get(session=session)
    with pytest.raises(DatabaseError), transaction.atomic():
        SessionProtocol.objects.filter(pk=other.pk).update(adopted_at=START - timedelta(hours=1))
    with pytest.raises(DatabaseError), transaction.atomic():
        SessionProtocol.objects.filter(pk=other.pk).delete()
    assert ProtocolVersion.objects.get(pk=taken.pk).min_observation_minutes == 60


def test_the_quick_entry_asks_for_the_fields_in_flowsheet_order():
    assert requirement_field_names(["dissociation", "spo2", "sedation", "bp"]) == [
        "systolic",
        "diastolic",
        "spo2",
        "moaas",
        *CADSS6_ITEMS,
    ]


def test_a_signed_session_takes_no_missed_reason_even_written_directly(sessions, patient, nurse):
    from records.models import CheckpointMiss

    session = sessions.to(patient, "signed")
    with pytest.raises(ActionRefused, match="signed"):
        checkpoint_missed_reason(actor=actor_for(nurse), session=session, checkpoint_key="0", reason="Late")
    with pytest.raises(IntegrityError), transaction.atomic():
        CheckpointMiss.objects.create(
            session=session,
            checkpoint_key="0",
            checkpoint_name="Before the start",
            reason="Written around the action",
            recorded_by=nurse,
            recorded_at=timezone.now(),
        )
    assert session.session_protocol.version.protocol.name == "IV ketamine infusion"
