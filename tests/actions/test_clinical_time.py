"""Every clinical time is inside the visit (records.clinical_time), through every action that takes one.

The clock stands still at 10:00 on the clinic day (the patient arrives then) and is moved
by hand, so each refusal's message is known to the minute: the visit runs from 09:00 (an
hour before the arrival) to now plus the minute of clock skew allowed.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from records.actions.medications import (
    administration_pause,
    administration_resume,
    administration_start,
    administration_stop,
    order_document,
)
from records.actions.screening import screening_record
from records.actions.sessions import session_arrive
from records.actions.side_effects import discharge_record, side_effect_record, side_effect_resolve
from records.actions.vitals import vitals_record
from records.clinical_time import ARRIVAL_MARGIN
from records.models import Administration, Discharge, Order, SideEffect, VitalsReading
from tests.charting import NEGATIVE_SCREENING, WRITTEN_ORDER
from tests.conftest import CLINIC_DAY, actor_for

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo(settings.TIME_ZONE)


def at(hhmm: str, day: int = 0) -> datetime:
    """A time on the clinic day (or `day` days from it), in the clinic's time zone."""
    hours, minutes = map(int, hhmm.split(":"))
    return CLINIC_DAY.replace(hour=hours, minute=minutes, tzinfo=ZONE) + timedelta(days=day)


@pytest.fixture
def clock():
    """The clock stopped at 10:00 on the clinic day; `clock.to("10:30")` moves it."""
    with time_machine.travel(at("10:00"), tick=False) as traveller:

        class Clock:
            def to(self, hhmm: str) -> None:
                traveller.move_to(at(hhmm))

        yield Clock()


@pytest.fixture
def nurse_actor(nurse):
    return actor_for(nurse)


def refused(call, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        call()
    assert exc.value.message_dict == {field: [message]}


def vitals(actor, session, measured_at, phase="during"):
    # A post-session reading that meets the discharge's sedation and dissociation criteria.
    recovered = {"moaas": 5, "dissociation": "none"} if phase == "post" else {}
    return vitals_record(actor=actor, session=session, measured_at=measured_at, phase=phase, heart_rate=80, **recovered)


def stop(actor, administration, when):
    return administration_stop(
        actor=actor, administration=administration, amount_given_value="35", amount_given_unit="mg", at=when
    )


def test_the_margin_before_arrival_is_an_hour():
    assert timedelta(minutes=60) == ARRIVAL_MARGIN


# Vitals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [at("08:59"), at("10:32"), at("09:30", day=-1), datetime(1990, 1, 1, tzinfo=ZONE)])
def test_vitals_outside_the_visit_are_refused_with_the_window(clock, nurse_actor, sessions, patient, bad):
    session = sessions.to(patient, "in_progress")
    clock.to("10:30")
    count = VitalsReading.objects.count()
    refused(
        lambda: vitals(nurse_actor, session, bad),
        "measured_at",
        "Measured at must be between 09:00 and 10:31 today.",
    )
    assert VitalsReading.objects.count() == count


@pytest.mark.parametrize("good", [at("09:00"), at("09:45"), at("10:30"), at("10:31")])
def test_vitals_inside_the_visit_are_charted(clock, nurse_actor, sessions, patient, good):
    session = sessions.to(patient, "in_progress")
    clock.to("10:30")
    assert vitals(nurse_actor, session, good).measured_at == good


def test_a_post_session_reading_comes_after_the_last_stop(clock, nurse_actor, sessions, patient):
    session = sessions.to(patient, "in_progress")
    clock.to("10:20")
    stop(nurse_actor, Administration.objects.get(session=session), at("10:20"))
    clock.to("10:30")
    refused(
        lambda: vitals(nurse_actor, session, at("10:10"), phase="post"),
        "measured_at",
        "Measured at must be between 10:20 and 10:31 today.",
    )
    # The same time is fine for a reading during the infusion, and after the stop for a post-session one.
    vitals(nurse_actor, session, at("10:10"), phase="during")
    vitals(nurse_actor, session, at("10:25"), phase="post")


def test_the_screening_blood_pressure_is_taken_during_the_visit(clock, nurse_actor, sessions, patient):
    session = sessions.to(patient, "screening")
    clock.to("10:30")
    refused(
        lambda: screening_record(actor=nurse_actor, session=session, bp_measured_at=at("08:30"), **NEGATIVE_SCREENING),
        "bp_measured_at",
        "BP measured at must be between 09:00 and 10:31 today.",
    )
    assert not VitalsReading.objects.filter(session=session).exists()
    screening = screening_record(actor=nurse_actor, session=session, bp_measured_at=at("09:50"), **NEGATIVE_SCREENING)
    assert screening.bp_reading.measured_at == at("09:50")


# Orders and administration ----------------------------------------------------------------------


def order(actor, session, physician, received_at):
    return order_document(
        actor=actor, session=session, ordering_physician=physician, received_at=received_at, **WRITTEN_ORDER
    )


@pytest.mark.parametrize("bad", [at("08:30"), at("10:45"), datetime(2001, 1, 1, tzinfo=ZONE)])
def test_an_order_is_received_during_the_visit(clock, nurse_actor, physician, sessions, patient, bad):
    session = sessions.to(patient, "cleared")
    clock.to("10:30")
    refused(
        lambda: order(nurse_actor, session, physician, bad),
        "received_at",
        "Time received must be between 09:00 and 10:31 today.",
    )
    assert not Order.objects.exists()
    assert order(nurse_actor, session, physician, at("09:15")).received_at == at("09:15")


def test_an_administration_starts_after_its_order_was_received(clock, nurse_actor, physician, sessions, patient):
    session = sessions.to(patient, "cleared")
    clock.to("10:30")
    given = order(nurse_actor, session, physician, at("10:10"))

    def start(when):
        return administration_start(actor=nurse_actor, order=given, site="L arm", lot_number="L1", started_at=when)

    for bad in (at("10:05"), at("10:40")):
        refused(lambda bad=bad: start(bad), "started_at", "Start time must be between 10:10 and 10:31 today.")
    assert not Administration.objects.exists()
    assert start(at("10:15")).started_at == at("10:15")


def test_pause_resume_and_stop_follow_the_previous_event(clock, nurse_actor, sessions, patient):
    session = sessions.to(patient, "in_progress")  # started at 10:00
    administration = Administration.objects.get(session=session)
    clock.to("10:30")

    def pause(when):
        return administration_pause(actor=nurse_actor, administration=administration, reason="Nausea", at=when)

    def resume(when):
        return administration_resume(actor=nurse_actor, administration=administration, reason="Settled", at=when)

    refused(lambda: pause(at("09:55")), "at", "Pause time must be between 10:00 and 10:31 today.")
    refused(lambda: pause(at("10:35")), "at", "Pause time must be between 10:00 and 10:31 today.")
    pause(at("10:20"))
    refused(lambda: resume(at("10:10")), "at", "Resume time must be between 10:20 and 10:31 today.")
    resume(at("10:25"))
    refused(
        lambda: stop(nurse_actor, administration, at("10:22")), "at", "Stop time must be between 10:25 and 10:31 today."
    )
    assert stop(nurse_actor, administration, at("10:28")).stopped_at == at("10:28")
    assert [e.kind for e in administration.events.all()] == ["start", "pause", "resume", "stop"]


# Side effects and discharge ---------------------------------------------------------------------


def side_effect(actor, session, onset, resolved=None):
    return side_effect_record(
        actor=actor,
        session=session,
        kind="nausea_vomiting",
        severity="mild",
        onset_at=onset,
        action_taken="none",
        resolved_at=resolved,
    )


def test_a_side_effect_starts_during_the_visit_and_resolves_after_its_onset(clock, nurse_actor, sessions, patient):
    session = sessions.to(patient, "in_progress")
    clock.to("10:30")
    refused(
        lambda: side_effect(nurse_actor, session, at("08:00")),
        "onset_at",
        "Onset must be between 09:00 and 10:31 today.",
    )
    refused(
        lambda: side_effect(nurse_actor, session, at("10:20"), resolved=at("10:15")),
        "resolved_at",
        "Resolved at must be between 10:20 and 10:31 today.",
    )
    refused(
        lambda: side_effect(nurse_actor, session, at("10:20"), resolved=at("11:00")),
        "resolved_at",
        "Resolved at must be between 10:20 and 10:31 today.",
    )
    assert not SideEffect.objects.exists()
    effect = side_effect(nurse_actor, session, at("10:20"))
    refused(
        lambda: side_effect_resolve(actor=nurse_actor, side_effect=effect, resolved_at=at("10:10")),
        "resolved_at",
        "Resolved at must be between 10:20 and 10:31 today.",
    )
    assert side_effect_resolve(actor=nurse_actor, side_effect=effect, resolved_at=at("10:29")).resolved_at == at(
        "10:29"
    )


def discharge(actor, session, when):
    return discharge_record(
        actor=actor,
        session=session,
        alert_and_oriented=True,
        vitals_near_baseline=True,
        steady_walking=True,
        escort_present_not_driving=True,
        discharged_at=when,
    )


@pytest.fixture
def stopped_at_1020(clock, nurse_actor, sessions, patient):
    """A session whose administration stopped at 10:20, with a post-session reading at 10:25; now 10:30."""
    session = sessions.to(patient, "in_progress")
    clock.to("10:20")
    stop(nurse_actor, Administration.objects.get(session=session), at("10:20"))
    clock.to("10:30")
    vitals(nurse_actor, session, at("10:25"), phase="post")
    return session


@pytest.mark.parametrize("bad", [at("10:15"), at("09:30"), at("10:40"), at("10:25", day=-3)])
def test_a_discharge_comes_after_the_last_stop(stopped_at_1020, nurse_actor, bad):
    refused(
        lambda: discharge(nurse_actor, stopped_at_1020, bad),
        "discharged_at",
        "Discharge time must be between 10:20 and 10:31 today.",
    )
    assert not Discharge.objects.exists()


def test_a_discharge_after_the_last_stop_is_recorded(stopped_at_1020, nurse_actor):
    assert discharge(nurse_actor, stopped_at_1020, at("10:28")).discharged_at == at("10:28")


def test_nothing_is_dated_after_the_discharge(clock, nurse_actor, sessions, patient):
    session = sessions.to(patient, "in_progress")
    effect = side_effect(nurse_actor, session, at("10:00"))
    clock.to("10:05")
    stop(nurse_actor, Administration.objects.get(session=session), at("10:05"))
    clock.to("10:08")
    vitals(nurse_actor, session, at("10:08"), phase="post")
    clock.to("10:10")
    discharge(nurse_actor, session, at("10:10"))
    clock.to("10:30")
    refused(
        lambda: side_effect_resolve(actor=nurse_actor, side_effect=effect, resolved_at=at("10:20")),
        "resolved_at",
        "Resolved at must be between 10:00 and 10:10 today.",
    )
    side_effect_resolve(actor=nurse_actor, side_effect=effect, resolved_at=at("10:09"))


def test_a_window_on_other_days_gives_the_dates(nurse, physician, patient):
    """A session charted three days ago: its window is dated, and closes at its discharge."""
    from records.clinical_time import require_in_visit
    from tests.charting import chart_session

    # Arrival 09:00, the start at 09:10, the stop at 09:18; the recovered reading an hour after the start
    # (the IV protocol's observation) at 10:11, and the discharge 5 minutes later.
    session = chart_session(nurse=nurse, physician=physician, patient=patient, start=at("09:00", day=-3), sign=False)
    refused(
        lambda: require_in_visit(session, field="resolved_at", label="Resolved at", value=timezone.now()),
        "resolved_at",
        "Resolved at must be between 2026-11-22 08:00 and 2026-11-22 10:16.",
    )
    require_in_visit(session, field="resolved_at", label="Resolved at", value=at("10:16", day=-3))


# Arrival -----------------------------------------------------------------------------------------


def test_an_arrival_is_on_the_scheduled_day_and_not_in_the_future(clock, nurse_actor, sessions, patient):
    session = sessions.schedule(patient, scheduled_at=at("10:30"))
    for bad in (at("23:00", day=-1), at("10:05")):
        refused(
            lambda bad=bad: session_arrive(actor=nurse_actor, session=session, arrived_at=bad),
            "arrived_at",
            "Arrival time must be between 00:00 and 10:01 today.",
        )
    assert session_arrive(actor=nurse_actor, session=session, arrived_at=at("09:50")).arrived_at == at("09:50")


def test_a_session_scheduled_for_another_day_cannot_arrive_today(clock, nurse_actor, sessions, patient):
    session = sessions.schedule(patient, scheduled_at=at("10:00", day=1))
    refused(
        lambda: session_arrive(actor=nurse_actor, session=session),
        "arrived_at",
        "Arrival time must be between 2026-11-26 00:00 and 10:01 today, and that time has not come yet: "
        "check the session.",
    )


def test_a_time_typed_to_the_minute_is_compared_to_the_minute(clock, nurse_actor, sessions, patient):
    """The forms take minutes: a reading typed as 10:20 follows a stop the server clocked at 10:20:45."""
    session = sessions.to(patient, "in_progress")
    clock.to("10:20")
    stopped = at("10:20") + timedelta(seconds=45)
    stop(nurse_actor, Administration.objects.get(session=session), stopped)
    clock.to("10:30")
    refused(
        lambda: vitals(nurse_actor, session, stopped - timedelta(seconds=15), phase="post"),
        "measured_at",
        "Measured at must be between 10:20:45 and 10:31 today.",
    )
    refused(
        lambda: vitals(nurse_actor, session, at("10:19"), phase="post"),
        "measured_at",
        "Measured at must be between 10:20 and 10:31 today.",
    )
    assert vitals(nurse_actor, session, at("10:20"), phase="post").measured_at == at("10:20")
