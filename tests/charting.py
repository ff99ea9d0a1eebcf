"""Build sessions through the real actions, for tests.

`SessionBuilder` (the `sessions` fixture) takes a session of today up to any state;
`chart_session` charts a whole session at a given time in the past, arrival to signature.
Neither writes a row itself: every step is the action a nurse or physician would take.
"""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from records.actions.context import Actor
from records.actions.medications import administration_start, administration_stop, order_document
from records.actions.screening import screening_decide, screening_record
from records.actions.sessions import session_arrive, session_begin_screening, session_schedule, session_sign
from records.actions.side_effects import discharge_record, side_effect_record
from records.actions.vitals import vitals_record
from records.models import Patient, Session, User

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

STEPS = ["scheduled", "arrived", "screening", "cleared", "in_progress", "recovery", "discharged", "signed"]


class SessionBuilder:
    def __init__(self, nurse, physician, actor_for):
        self.nurse, self.physician, self.actor_for = nurse, physician, actor_for

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

    def to(self, patient, state: str, screening: dict | None = None, **schedule) -> Session:
        """A session of `patient` taken through the real actions up to `state`."""
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
            order = self.order(session)
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
def sessions(nurse, physician):
    from tests.conftest import actor_for

    return SessionBuilder(nurse, physician, actor_for)


def chart_session(
    *,
    nurse: User,
    physician: User,
    patient: Patient,
    start: datetime,
    readings: int = 4,
    pain_before: int = 6,
    pain_after: int = 2,
    systolic: int = 128,
    diastolic: int = 82,
    received_as: str = "written",
    held: bool = False,
    side_effect: bool = False,
    sign: bool = True,
) -> Session:
    """One IV session starting at `start` (in the past), from arrival to the nurse's signature.

    `readings` flowsheet rows (at least 2: one before, one after the infusion), besides
    the blood pressure the screening records. `held`: the screening is held (history of
    hypertension) and the physician decides to proceed. A verbal or telephone order
    (`received_as`) waits for the physician's co-signature.
    """
    as_nurse, as_physician = Actor.for_user(nurse), Actor.for_user(physician)

    def at(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    session = session_schedule(
        actor=as_nurse,
        patient=patient,
        planned_route="iv_infusion",
        scheduled_at=start,
        chair="Chair 2",
        primary_nurse=nurse,
        supervising_physician=physician,
    )
    session_arrive(actor=as_nurse, session=session, arrived_at=at(0))
    session_begin_screening(actor=as_nurse, session=session)
    answers = {**NEGATIVE_SCREENING, "systolic": systolic, "diastolic": diastolic}
    if held:
        answers["hypertension_history"] = "yes"
    screening = screening_record(actor=as_nurse, session=session, bp_measured_at=at(2), **answers)
    if held:
        screening_decide(
            actor=as_physician,
            screening=screening,
            decision="proceed",
            reason="Treated hypertension, controlled on amlodipine; BP today acceptable.",
        )
    order = order_document(
        actor=as_nurse,
        session=session,
        **{**WRITTEN_ORDER, "received_as": received_as},
        read_back_confirmed=received_as != "written",
        ordering_physician=physician,
        received_at=at(5),
    )
    vitals = {"actor": as_nurse, "session": session, "spo2": 98, "respiratory_rate": 14}
    vitals_record(
        **vitals,
        measured_at=at(6),
        phase="pre",
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=72,
        pain=pain_before,
    )
    administration = administration_start(
        actor=as_nurse, order=order, site="L forearm 22G", lot_number="LOT-1", started_at=at(10)
    )
    during = max(0, readings - 2)
    for i in range(during):
        vitals_record(
            **vitals,
            measured_at=at(12 + i * 3),
            phase="during",
            systolic=systolic + 6 - (i % 5),
            diastolic=diastolic + 3 - (i % 3),
            heart_rate=78 + (i % 4),
            dissociation="mild" if i % 4 == 1 else "none",
        )
    stop = 12 + during * 3
    if side_effect:
        side_effect_record(
            actor=as_nurse,
            session=session,
            kind="nausea_vomiting",
            severity="mild",
            onset_at=at(stop - 2),
            action_taken="Ondansetron per standing order",
            resolved_at=at(stop + 5),
        )
    administration_stop(
        actor=as_nurse, administration=administration, amount_given_value="35", amount_given_unit="mg", at=at(stop)
    )
    vitals_record(
        **vitals,
        measured_at=at(stop + 20),
        phase="post",
        systolic=systolic - 2,
        diastolic=diastolic - 2,
        heart_rate=74,
        pain=pain_after,
    )
    discharge_record(
        actor=as_nurse,
        session=session,
        alert_and_oriented=True,
        vitals_near_baseline=True,
        steady_walking=True,
        escort_present_not_driving=True,
        discharged_at=at(stop + 25),
    )
    if sign:
        session_sign(actor=as_nurse, session=session)
    return Session.objects.get(pk=session.pk)
