"""Chart a whole past session through the real actions, for the demo's year-long treatment course.

Every time is given explicitly and lies in the past, so a year of sessions can be
charted today exactly as the nurse and physician would have charted it then.
"""

from datetime import datetime, timedelta
from typing import Any

from records.actions.context import Actor
from records.actions.medications import administration_start, administration_stop, order_document
from records.actions.screening import screening_decide, screening_record
from records.actions.sessions import session_arrive, session_begin_screening, session_schedule, session_sign
from records.actions.side_effects import discharge_record, side_effect_record
from records.actions.vitals import vitals_record
from records.models import Patient, Session, User

# The written order the demo's IV sessions were given, recorded as given (never derived from anything).
IV_ORDER: dict[str, Any] = {
    "medication": "Ketamine",
    "dose_value": "0.5",
    "dose_unit": "mg/kg/h",
    "route": "iv_infusion",
    "rate_text": "over 40 minutes",
    "order_text": "Ketamine 0.5 mg/kg/h IV infusion over 40 minutes",
}
NEGATIVE = {
    "hypertension_history": "no",
    "hypertension_uncontrolled": "no",
    "psychosis_history": "no",
    "psychosis_current": "no",
    "pregnancy": "not_pregnant_na",
    "pregnancy_note": "Post-menopausal",
}


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
    chair: str = "Chair 2",
) -> Session:
    """One IV session from arrival to the nurse's signature.

    `readings` flowsheet rows (at least 2: one before, one after), besides the
    blood pressure the screening records.
    """
    as_nurse, as_physician = Actor.for_user(nurse), Actor.for_user(physician)
    at = lambda minutes: start + timedelta(minutes=minutes)  # noqa: E731
    session = session_schedule(
        actor=as_nurse,
        patient=patient,
        planned_route="iv_infusion",
        scheduled_at=start,
        chair=chair,
        primary_nurse=nurse,
        supervising_physician=physician,
    )
    session_arrive(actor=as_nurse, session=session, arrived_at=at(0))
    session_begin_screening(actor=as_nurse, session=session)
    answers = {**NEGATIVE, "hypertension_history": "yes"} if held else NEGATIVE
    screening = screening_record(
        actor=as_nurse, session=session, systolic=systolic, diastolic=diastolic, bp_measured_at=at(2), **answers
    )
    if held:
        screening_decide(
            actor=as_physician,
            screening=screening,
            decision="proceed",
            reason="Treated hypertension, controlled on amlodipine; BP today acceptable.",
        )
    verbal = received_as != "written"
    order = order_document(
        actor=as_nurse,
        session=session,
        received_as=received_as,
        read_back_confirmed=verbal,
        ordering_physician=physician,
        received_at=at(5),
        **IV_ORDER,
    )
    vitals_record(
        actor=as_nurse,
        session=session,
        measured_at=at(6),
        phase="pre",
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=72,
        spo2=98,
        respiratory_rate=14,
        pain=pain_before,
    )
    administration = administration_start(
        actor=as_nurse, order=order, site="L forearm 22G", lot_number="KT-2026-114", started_at=at(10)
    )
    during = max(0, readings - 2)
    for i in range(during):
        vitals_record(
            actor=as_nurse,
            session=session,
            measured_at=at(12 + i * 3),
            phase="during",
            systolic=systolic + 6 - (i % 5),
            diastolic=diastolic + 3 - (i % 3),
            heart_rate=78 + (i % 4),
            spo2=97,
            respiratory_rate=14,
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
    # The IV protocol observes for at least 60 minutes from the start (at(10)) and asks for a reading
    # before the discharge once they have passed (records.monitoring).
    recovered = max(stop + 20, 10 + 61)
    vitals_record(
        actor=as_nurse,
        session=session,
        measured_at=at(recovered),
        phase="post",
        systolic=systolic - 2,
        diastolic=diastolic - 2,
        heart_rate=74,
        spo2=98,
        respiratory_rate=14,
        pain=pain_after,
        # Fully alert and no dissociation left: the discharge waits for both (records.discharge_criteria).
        moaas=5,
        dissociation="none",
        cadss_1=0,
        cadss_2=0,
        cadss_6=0,
        cadss_7=0,
        cadss_15=0,
        cadss_22=0,
    )
    discharge_record(
        actor=as_nurse,
        session=session,
        alert_and_oriented=True,
        vitals_near_baseline=True,
        steady_walking=True,
        escort_present_not_driving=True,
        discharged_at=at(recovered + 5),
    )
    if sign:
        session_sign(actor=as_nurse, session=session)
    return Session.objects.get(pk=session.pk)
