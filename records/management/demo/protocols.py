"""Two demo sessions on the monitoring protocols, placed relative to now so they are live when the demo opens:
an intranasal esketamine session half-way to its 40-minute checkpoint, and an IV infusion whose 30-minute
checkpoint was not charted (overdue on the board and the session page). Invented data, demo mode only."""

from datetime import datetime, timedelta
from typing import Any

from records.actions import medications as med
from records.actions.context import Actor
from records.actions.screening import screening_record
from records.actions.sessions import session_arrive, session_begin_screening, session_schedule
from records.actions.vitals import vitals_record
from records.models import Patient, Session, User

NEGATIVE = {
    "hypertension_history": "no",
    "hypertension_uncontrolled": "no",
    "psychosis_history": "no",
    "psychosis_current": "no",
    "pregnancy": "not_pregnant_na",
    "pregnancy_note": "Not of child-bearing potential",
}
# (mrn, chair, route, minutes since the first start, medication as written, dose as written, unit, order text,
#  readings: (minutes after the start, phase, values))
PROTOCOL_SESSIONS: list[tuple[Any, ...]] = [
    (
        "DEMO-1013",
        "Chair 9",
        "intranasal",
        25,
        "Esketamine nasal spray",
        "56",
        "mg",
        "Esketamine 56 mg intranasal (two devices, 5 minutes apart)",
        [(-8, "pre", {"systolic": 128, "diastolic": 80, "spo2": 98, "heart_rate": 74})],
    ),
    (
        "DEMO-1014",
        "Chair 10",
        "iv_infusion",
        41,
        "Ketamine",
        "0.5",
        "mg/kg/h",
        "Ketamine 0.5 mg/kg/h IV infusion over 40 minutes",
        [
            (
                -8,
                "pre",
                {"systolic": 126, "diastolic": 78, "heart_rate": 72, "spo2": 98, "respiratory_rate": 14, "pain": 6},
            ),
            (
                15,
                "during",
                {"systolic": 142, "diastolic": 88, "heart_rate": 84, "spo2": 97, "respiratory_rate": 15, "moaas": 4},
            ),
            # No reading at 30 minutes: that checkpoint is overdue.
        ],
    ),
]


def seed_protocol_sessions(*, nurse_user: User, physician_user: User, now: datetime) -> int:
    """The two sessions above, for the patients that have no session yet; how many were added."""
    nurse = Actor.for_user(nurse_user)
    added = 0
    for mrn, chair, route, since_start, medication, dose, unit, text, readings in PROTOCOL_SESSIONS:
        patient = Patient.objects.get(mrn=mrn)
        if Session.objects.filter(patient=patient).exists():
            continue
        start = now - timedelta(minutes=since_start)
        session = session_schedule(
            actor=nurse,
            patient=patient,
            planned_route=route,
            scheduled_at=start - timedelta(minutes=20),
            chair=chair,
            primary_nurse=nurse_user,
            supervising_physician=physician_user,
        )
        session_arrive(actor=nurse, session=session, arrived_at=start - timedelta(minutes=15))
        session_begin_screening(actor=nurse, session=session)
        screening_record(
            actor=nurse,
            session=session,
            systolic=128,
            diastolic=80,
            bp_measured_at=start - timedelta(minutes=12),
            **NEGATIVE,
        )
        order = med.order_document(
            actor=nurse,
            session=session,
            received_as="written",
            read_back_confirmed=False,
            ordering_physician=physician_user,
            medication=medication,
            dose_value=dose,
            dose_unit=unit,
            route=route,
            rate_text="",
            order_text=text,
            received_at=start - timedelta(minutes=10),
        )
        pre = [r for r in readings if r[0] < 0]
        for minutes, phase, values in pre:
            vitals_record(
                actor=nurse, session=session, measured_at=start + timedelta(minutes=minutes), phase=phase, **values
            )
        med.administration_start(
            actor=nurse,
            order=order,
            site="Both nostrils" if route == "intranasal" else "L forearm, 22G cannula",
            lot_number=f"DEMO-LOT-{patient.pk:04d}",
            started_at=start,
        )
        for minutes, phase, values in readings:
            if minutes >= 0:
                vitals_record(
                    actor=nurse, session=session, measured_at=start + timedelta(minutes=minutes), phase=phase, **values
                )
        added += 1
    return added
