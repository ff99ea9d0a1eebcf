"""A completed intranasal esketamine session of yesterday, with its REMS monitoring form, for the demo.

Charted through the real actions with explicit past times: screening, the order as given, the first
device, blood pressure before, at 40 minutes and before discharge, MOAA/S and CADSS-6 as the patient
recovers, the discharge after the two hours, the nurse's signature and the form (not yet submitted,
so it waits on the list of forms due).
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from records.actions.context import Actor
from records.actions.medications import administration_start, administration_stop, order_document
from records.actions.patients import patient_create
from records.actions.rems import rems_form_record
from records.actions.screening import screening_record
from records.actions.sessions import session_arrive, session_begin_screening, session_schedule, session_sign
from records.actions.side_effects import discharge_record
from records.actions.vitals import vitals_record
from records.models import Patient, User

ESKETAMINE_MRN = "DEMO-3001"
NEGATIVE = {
    "hypertension_history": "no",
    "hypertension_uncontrolled": "no",
    "psychosis_history": "no",
    "psychosis_current": "no",
    "pregnancy": "not_pregnant_test",
    "pregnancy_note": "Urine hCG negative",
}
# Minutes after the first device: systolic, diastolic, SpO2, MOAA/S, CADSS-6 items (1, 2, 6, 7, 15, 22).
READINGS = [
    (20, 138, 84, 98, 4, (1, 2, 1, 1, 2, 0)),
    (40, 152, 92, 97, 4, (1, 1, 0, 1, 1, 0)),
    (75, 140, 86, 98, 5, (0, 1, 0, 0, 0, 0)),
    (118, 130, 80, 98, 5, (0, 0, 0, 0, 0, 0)),
]


def seed_esketamine_session(*, nurse: User, physician: User) -> bool:
    """Create the esketamine patient and yesterday's session; False if already there (idempotent)."""
    if Patient.objects.filter(mrn=ESKETAMINE_MRN).exists():
        return False
    as_nurse = Actor.for_user(nurse)
    patient = patient_create(
        actor=Actor.system("seed_demo"),
        mrn=ESKETAMINE_MRN,
        family_name="Okafor",
        given_name="Grace",
        date_of_birth=date(1986, 9, 3),
        sex="female",
        allergies="No known allergies",
        phone="555-0100",
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    arrival = timezone.make_aware(datetime.combine(yesterday, time(9, 30)))
    first = arrival + timedelta(minutes=20)
    at = lambda minutes: first + timedelta(minutes=minutes)  # noqa: E731
    session = session_schedule(
        actor=as_nurse,
        patient=patient,
        planned_route="intranasal",
        scheduled_at=arrival,
        chair="Room B",
        primary_nurse=nurse,
        supervising_physician=physician,
    )
    session_arrive(actor=as_nurse, session=session, arrived_at=arrival)
    session_begin_screening(actor=as_nurse, session=session)
    screening_record(actor=as_nurse, session=session, systolic=126, diastolic=80, bp_measured_at=at(-12), **NEGATIVE)
    order = order_document(
        actor=as_nurse,
        session=session,
        received_as="written",
        read_back_confirmed=False,
        ordering_physician=physician,
        medication="Esketamine nasal spray",
        dose_value="56",
        dose_unit="mg",
        route="intranasal",
        rate_text="two 28 mg devices, 5 minutes apart",
        order_text="Esketamine 56 mg intranasal: two 28 mg devices, 5 minutes apart",
        received_at=at(-10),
    )
    administration = administration_start(
        actor=as_nurse, order=order, site="Both nostrils", lot_number="EKT-2291", started_at=at(0)
    )
    administration_stop(
        actor=as_nurse, administration=administration, amount_given_value="56", amount_given_unit="mg", at=at(5)
    )
    for minutes, systolic, diastolic, spo2, moaas, items in READINGS:
        vitals_record(
            actor=as_nurse,
            session=session,
            measured_at=at(minutes),
            phase="post",
            systolic=systolic,
            diastolic=diastolic,
            spo2=spo2,
            heart_rate=76,
            respiratory_rate=14,
            moaas=moaas,
            cadss_1=items[0],
            cadss_2=items[1],
            cadss_6=items[2],
            cadss_7=items[3],
            cadss_15=items[4],
            cadss_22=items[5],
        )
    discharge_record(
        actor=as_nurse,
        session=session,
        alert_and_oriented=True,
        vitals_near_baseline=True,
        steady_walking=True,
        escort_present_not_driving=True,
        discharged_at=at(122),
        note="Left with her sister driving",
    )
    session_sign(actor=as_nurse, session=session)
    rems_form_record(
        actor=as_nurse,
        session=session,
        lot_number="EKT-2291",
        ready_to_leave="90_to_119",
        sedation="yes",
        dissociation="yes",
        respiratory_depression="no",
        concomitant_medications=["benzodiazepines"],
        concomitant_note="Lorazepam 0.5 mg at night, as documented at intake",
        serious_adverse_events="no",
    )
    return True
