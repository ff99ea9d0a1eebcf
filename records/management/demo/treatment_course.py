"""A demo patient with a year of treatment, so the history's trends show on first run.

Everything goes through the real actions, as the demo nurse and physician, with
times in the past; only `manage.py seed_demo` calls it, and only in demo mode.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from records.actions.context import Actor
from records.actions.intake import intake_record
from records.actions.outcomes import outcome_record
from records.actions.patients import patient_create
from records.actions.sessions import session_cosign
from records.management.demo.course import chart_session
from records.models import Patient, User

COURSE_MRN = "DEMO-2001"
# Days before today: six infusions in the first three weeks, then about monthly.
SESSION_DAYS = [364, 361, 357, 354, 350, 347, 320, 292, 264, 236, 208, 180, 152, 124, 96, 68, 40, 12]
# (days before today, headache days in the last 30, MIDAS, HIT-6): a slow improvement, as reported.
OUTCOMES = [
    (366, 19, 62, 68),
    (336, 16, None, None),
    (306, 15, None, None),
    (276, 13, 41, 63),
    (246, 12, None, None),
    (216, 12, None, None),
    (186, 10, 28, 60),
    (156, 9, None, None),
    (126, 10, None, None),
    (96, 8, 19, 57),
    (66, 7, None, None),
    (36, 7, None, None),
    (12, 6, 14, 55),
]


def _at(days_ago: int, hour: int = 9) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_current_timezone())


def seed_treatment_course(*, nurse: User, physician: User) -> bool:
    """Create the course patient and their year; False if it is already there (idempotent)."""
    if Patient.objects.filter(mrn=COURSE_MRN).exists():
        return False
    as_nurse, as_physician = Actor.for_user(nurse), Actor.for_user(physician)
    patient = patient_create(
        actor=Actor.system("seed_demo"),
        mrn=COURSE_MRN,
        family_name="Moreau",
        given_name="Claire",
        date_of_birth=date(1977, 5, 12),
        sex="female",
        allergies="No known allergies",
        phone="555-0100",
    )
    intake_record(
        actor=as_physician,
        patient=patient,
        diagnosis="Chronic migraine without aura",
        baseline_headache_days=20,
        preventive_treatments=[
            {"name": "Topiramate", "why_stopped": "Word-finding difficulty"},
            {"name": "Propranolol", "why_stopped": "Fatigue; no benefit after 3 months"},
            {"name": "OnabotulinumtoxinA", "why_stopped": "Partial response only after 3 cycles"},
        ],
        relevant_history="Medication-overuse headache in 2024, resolved after withdrawal. No psychiatric history.",
        notes="Off-label use discussed; written consent on file. Driver arranged for each visit.",
    )
    last = len(SESSION_DAYS) - 1
    for index, days in enumerate(SESSION_DAYS):
        progress = index / last
        session = chart_session(
            nurse=nurse,
            physician=physician,
            patient=patient,
            start=_at(days),
            readings=8,
            pain_before=round(7 - 3 * progress),
            pain_after=round(3 - 2 * progress),
            systolic=132 - index % 4 * 3,
            diastolic=84 - index % 3 * 2,
            held=index == 3,
            side_effect=index in (1, 9),
            received_as="telephone" if index == last else "written",
        )
        if index < last:
            session_cosign(actor=as_physician, session=session)
    for days, headache_days, midas, hit6 in OUTCOMES:
        day = timezone.localdate() - timedelta(days=days)
        outcome_record(
            actor=as_nurse,
            patient=patient,
            reported_on=day,
            headache_days=headache_days,
            midas_total=midas,
            midas_completed_on=day if midas is not None else None,
            hit6_total=hit6,
            hit6_completed_on=day if hit6 is not None else None,
        )
    return True
