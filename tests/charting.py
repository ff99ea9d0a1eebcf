"""Build sessions through the real actions, for tests.

`SessionBuilder` (the `sessions` fixture) takes a session of today up to any state;
`chart_session` charts a whole session at a given time in the past, arrival to signature.
Neither writes a row itself: every step is the action a nurse or physician would take.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from records import monitoring
from records.actions.medications import administration_start, administration_stop, order_document
from records.actions.screening import screening_record
from records.actions.sessions import session_arrive, session_begin_screening, session_schedule, session_sign
from records.actions.side_effects import discharge_record
from records.actions.vitals import vitals_record
from records.management.demo import course as demo_course
from records.models import Session

NEGATIVE_SCREENING = {
    "systolic": 128,
    "diastolic": 82,
    "hypertension_history": "no",
    "hypertension_uncontrolled": "no",
    "psychosis_history": "no",
    "psychosis_current": "no",
    "pregnancy": "not_pregnant_test",
    "pregnancy_note": "Urine hCG negative",
}

WRITTEN_ORDER = {
    "received_as": "written",
    "medication": "Ketamine",
    "dose_value": "0.5",
    "dose_unit": "mg/kg/h",
    "route": "iv_infusion",
    "rate_text": "over 40 minutes",
    "order_text": "Ketamine 0.5 mg/kg/h IV infusion over 40 minutes",
}

# A post-session reading that meets the discharge's sedation and dissociation criteria
# (records.discharge_criteria): fully alert on the MOAA/S, no dissociation left on the CADSS-6.
RECOVERED = {"moaas": 5, "cadss_1": 0, "cadss_2": 0, "cadss_6": 0, "cadss_7": 0, "cadss_15": 0, "cadss_22": 0}

STEPS = ["scheduled", "arrived", "screening", "cleared", "in_progress", "recovery", "discharged", "signed"]


class SessionBuilder:
    def __init__(self, nurse, physician, actor_for, clock=None):
        self.nurse, self.physician, self.actor_for = nurse, physician, actor_for
        self.clock = clock  # the test's running clock (tests/conftest.py), moved on before a discharge

    def schedule(self, patient, **overrides) -> Session:
        fields = {
            "planned_route": "iv_infusion",
            "scheduled_at": timezone.now(),
            "chair": "Chair 1",
            "primary_nurse": self.nurse,
            "supervising_physician": self.physician,
        }
        fields.update(overrides)
        return session_schedule(actor=self.actor_for(self.nurse), patient=patient, **fields)

    def order(self, session, **overrides):
        fields = {**WRITTEN_ORDER, "ordering_physician": self.physician, "received_at": timezone.now()}
        fields.update(overrides)
        return order_document(actor=self.actor_for(self.nurse), session=session, **fields)

    def to(self, patient, state: str, screening: dict | None = None, order: dict | None = None, **schedule) -> Session:
        """A session of `patient` taken through the real actions up to `state` (`order`: the order's own fields)."""
        nurse = self.actor_for(self.nurse)
        session = self.schedule(patient, **schedule)
        target = STEPS.index(state) if state in STEPS else None
        if state == "held":
            target = STEPS.index("screening")
        now = timezone.now()
        if target >= 1:
            session_arrive(actor=nurse, session=session)
        if target >= 2:
            session_begin_screening(actor=nurse, session=session)
        if state == "held":
            screening_record(actor=nurse, session=session, **{**NEGATIVE_SCREENING, "psychosis_history": "yes"})
            return Session.objects.get(pk=session.pk)
        if target >= 3:
            screening_record(actor=nurse, session=session, **(screening or NEGATIVE_SCREENING))
        if target >= 4:
            order = self.order(session, **(order or {}))
            self.administration = administration_start(
                actor=nurse, order=order, site="L forearm 22G", lot_number="LOT-1"
            )
            vitals_record(
                actor=nurse,
                session=session,
                measured_at=now,
                phase="during",
                systolic=130,
                diastolic=80,
                heart_rate=80,
                spo2=98,
                respiratory_rate=14,
            )
        if target >= 5:
            administration_stop(
                actor=nurse, administration=self.administration, amount_given_value="35", amount_given_unit="mg"
            )
        if target >= 6:
            # A session that took a monitoring protocol waits for its minimum observation time since the
            # start and a before-discharge reading (records.monitoring): the test's clock moves on to then.
            version = monitoring.adopted_version(session)
            if version is not None and self.clock is not None:
                self.clock.shift(timedelta(minutes=version.min_observation_minutes + 1))
            vitals_record(
                actor=nurse,
                session=session,
                measured_at=timezone.now(),
                phase="post",
                systolic=124,
                diastolic=78,
                heart_rate=76,
                spo2=98,
                respiratory_rate=14,
                pain=2,
                **RECOVERED,
            )
            discharge_record(
                actor=nurse,
                session=session,
                alert_and_oriented=True,
                vitals_near_baseline=True,
                steady_walking=True,
                escort_present_not_driving=True,
            )
        if target >= 7:
            session_sign(actor=nurse, session=session)
        return Session.objects.get(pk=session.pk)


@pytest.fixture
def sessions(nurse, physician, _clinic_day):
    from tests.conftest import actor_for

    return SessionBuilder(nurse, physician, actor_for, clock=_clinic_day)


# A whole past session through the actions: the same charting seed_demo uses for its year of treatment.
chart_session = demo_course.chart_session


ESKETAMINE_ORDER = {
    "received_as": "written",
    "medication": "Esketamine nasal spray",
    "dose_value": "56",
    "dose_unit": "mg",
    "route": "intranasal",
    "rate_text": "two devices, 5 minutes apart",
    "order_text": "Esketamine 56 mg intranasal (two 28 mg devices, 5 minutes apart)",
}


def esketamine_session(sessions, patient, traveller, at, *, discharge: bool = True) -> Session:
    """An intranasal esketamine session charted through the actions on a stopped clock (`traveller`).

    Arrives 09:45, first device 10:00, BP at 09:50, 10:35, 10:42 and 11:55 (MOAA/S 5 and CADSS-6 0 then),
    stopped 10:05, discharged 12:05 (125 minutes of monitoring).
    """
    nurse = sessions.actor_for(sessions.nurse)
    traveller.move_to(at("09:45"))
    session = sessions.schedule(patient, planned_route="intranasal", scheduled_at=at("09:45"), chair="Chair 4")
    session_arrive(actor=nurse, session=session)
    session_begin_screening(actor=nurse, session=session)
    traveller.move_to(at("09:50"))
    screening_record(actor=nurse, session=session, **NEGATIVE_SCREENING)
    order = sessions.order(session, **ESKETAMINE_ORDER)
    traveller.move_to(at("10:00"))
    administration = administration_start(actor=nurse, order=order, site="Both nostrils", lot_number="EKT-2291")
    traveller.move_to(at("10:05"))
    administration_stop(actor=nurse, administration=administration, amount_given_value="56", amount_given_unit="mg")
    for when, systolic in (("10:35", 150), ("10:42", 146)):
        traveller.move_to(at(when))
        vitals_record(
            actor=nurse, session=session, measured_at=at(when), phase="post", systolic=systolic, diastolic=88, spo2=97
        )
    traveller.move_to(at("11:55"))
    vitals_record(
        actor=nurse,
        session=session,
        measured_at=at("11:55"),
        phase="post",
        systolic=132,
        diastolic=82,
        spo2=98,
        **RECOVERED,
    )
    if discharge:
        traveller.move_to(at("12:05"))
        discharge_record(
            actor=nurse,
            session=session,
            alert_and_oriented=True,
            vitals_near_baseline=True,
            steady_walking=True,
            escort_present_not_driving=True,
        )
    return Session.objects.get(pk=session.pk)
