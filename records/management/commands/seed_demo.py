from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from records.actions import medications as med
from records.actions.accounts import account_create
from records.actions.context import Actor
from records.actions.patients import patient_create
from records.actions.protocols import install_default_protocols
from records.actions.screening import screening_decide, screening_record
from records.actions.sessions import (
    addendum_add,
    session_arrive,
    session_begin_screening,
    session_cancel,
    session_cosign,
    session_schedule,
    session_sign,
)
from records.actions.side_effects import discharge_record, side_effect_record
from records.actions.vitals import vitals_mark_entered_in_error, vitals_record
from records.management.demo.data import DEMO_ACCOUNTS, DEMO_PASSWORDS, DEMO_PATIENTS, DEMO_SESSIONS, DEMO_VITALS
from records.management.demo.esketamine import seed_esketamine_session
from records.management.demo.protocols import seed_protocol_sessions
from records.management.demo.treatment_course import seed_treatment_course
from records.models import Patient, Session, User
from records.models.vitals import CADSS6_ITEMS
from records.permissions import Role

ORDER_STEPS = [
    "scheduled",
    "arrived",
    "screening",
    "cleared",
    "in_progress",
    "recovery",
    "discharged",
    "signed",
    "cosigned",
]
NEGATIVE = {
    "hypertension_history": "no",
    "hypertension_uncontrolled": "no",
    "psychosis_history": "no",
    "psychosis_current": "no",
    "pregnancy": "not_pregnant_na",
    "pregnancy_note": "Post-menopausal / not of child-bearing potential",
}


class Timeline:
    """Demo times: the sessions are spread over the 8 hours before now, a clinic day.

    Run early in the morning the day reaches back into yesterday: the minutes between the demo's
    steps (the observation before discharge, the protocol's checkpoints) stay the ones a real session
    needs, whatever the hour (squeezed into the minutes since midnight, a discharge at 00:05 was refused).
    """

    def __init__(self, now: datetime):
        self.now = now
        self.start = now - timedelta(hours=8)

    def at(self, hours_ago: float, plus_minutes: float = 0) -> datetime:
        """A moment `hours_ago` (on an 8-hour clinic day) plus some minutes, never after now."""
        return min(self.now - timedelta(hours=hours_ago) + timedelta(minutes=plus_minutes), self.now)


class Command(BaseCommand):
    help = "Load invented demo data and the demo accounts nurse, physician and admin (demo mode only). Idempotent."

    def handle(self, *args, **options):
        if not (settings.DEMO_MODE or settings.DEBUG):
            raise CommandError(
                "seed_demo creates accounts whose passwords are published in the README; "
                "it runs only with DEMO_MODE=1 (as `make run` sets), never in production."
            )
        actor = Actor.system("seed_demo")
        with transaction.atomic():
            created_accounts = []
            for username, first, last, role in DEMO_ACCOUNTS:
                if not User.objects.filter(username=username).exists():
                    account_create(
                        actor=actor,
                        username=username,
                        first_name=first,
                        last_name=last,
                        role=Role(role),
                        password=DEMO_PASSWORDS[username],
                    )
                    created_accounts.append(username)
            existing = set(Patient.objects.values_list("mrn", flat=True))
            new_patients = 0
            for mrn, family, given, dob, sex, allergies in DEMO_PATIENTS:
                if mrn not in existing:
                    patient_create(
                        actor=actor,
                        mrn=mrn,
                        family_name=family,
                        given_name=given,
                        date_of_birth=dob,
                        sex=sex,
                        allergies=allergies,
                        phone="555-0100",
                    )
                    new_patients += 1
            # The clinic's monitoring protocols (as `migrate` installs them for a new clinic), before any start.
            install_default_protocols()
            new_sessions = self.seed_sessions()
            # Live on the protocols when the demo opens: one mid-protocol, one with an overdue checkpoint.
            new_sessions += seed_protocol_sessions(
                nurse_user=User.objects.get(username="nurse"),
                physician_user=User.objects.get(username="physician"),
                now=timezone.now(),
            )
            # A year of sessions and outcomes for one patient, so the trends show at once.
            if seed_treatment_course(
                nurse=User.objects.get(username="nurse"), physician=User.objects.get(username="physician")
            ):
                new_patients += 1
            # Yesterday's intranasal esketamine session, completed, with its REMS monitoring form.
            if seed_esketamine_session(
                nurse=User.objects.get(username="nurse"), physician=User.objects.get(username="physician")
            ):
                new_patients += 1
        self.stdout.write(
            f"Demo data: {new_patients} patient(s), {new_sessions} session(s), "
            f"{len(created_accounts)} account(s) added."
        )
        self.stdout.write("Demo accounts (demo mode only; the passwords are public):")
        for username, *_ in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<10} password {DEMO_PASSWORDS[username]}")

    def seed_sessions(self) -> int:
        """One session per demo patient that has none yet, taken through the actions to its state."""
        nurse_user = User.objects.get(username="nurse")
        physician_user = User.objects.get(username="physician")
        nurse, physician = Actor.for_user(nurse_user), Actor.for_user(physician_user)
        time = Timeline(timezone.now())
        added = 0
        slots = len(DEMO_SESSIONS)
        for index, (mrn, state, chair, route, screening) in enumerate(DEMO_SESSIONS):
            patient = Patient.objects.get(mrn=mrn)
            if Session.objects.filter(patient=patient).exists():
                continue
            # Earlier states started later: the finished sessions are the morning's.
            hours_ago = 7.5 - index * (7.0 / slots)
            self.chart(
                nurse, physician, nurse_user, physician_user, patient, state, chair, route, screening, time, hours_ago
            )
            added += 1
        return added

    def chart(self, nurse, physician, nurse_user, physician_user, patient, state, chair, route, screening, time, h):
        step = ORDER_STEPS.index(state) if state in ORDER_STEPS else None
        scheduled = time.at(h) if state != "scheduled" else max(time.now, time.at(0, 30))
        session = session_schedule(
            actor=nurse,
            patient=patient,
            planned_route=route,
            scheduled_at=scheduled,
            chair=chair,
            primary_nurse=nurse_user,
            supervising_physician=physician_user,
        )
        if state == "scheduled":
            return
        if state == "no_show":
            session_cancel(actor=nurse, session=session, reason="Did not arrive; phoned twice, no answer", no_show=True)
            return
        session_arrive(actor=nurse, session=session, arrived_at=time.at(h, 2))
        if state == "arrived":
            return
        session_begin_screening(actor=nurse, session=session)
        if state == "screening":
            return
        answers = dict(NEGATIVE)
        if screening in ("held", "held_then_proceed"):
            answers["psychosis_history"] = "unknown"
        screening_record(
            actor=nurse, session=session, systolic=134, diastolic=86, bp_measured_at=time.at(h, 5), **answers
        )
        if screening == "held":
            return
        if screening == "held_then_proceed":
            screening_decide(
                actor=physician,
                screening=session.screening,
                decision="proceed",
                reason="Records from the referring neurologist show no psychotic illness; proceed.",
            )
        if state == "cleared":
            return
        verbal = patient.mrn == "DEMO-1002"
        order = med.order_document(
            actor=nurse,
            session=session,
            received_as="verbal" if verbal else "written",
            read_back_confirmed=verbal,
            ordering_physician=physician_user,
            medication="Ketamine",
            dose_value="0.5",
            dose_unit="mg/kg/h",
            route="iv_infusion",
            rate_text="over 40 minutes",
            order_text="Ketamine 0.5 mg/kg/h IV infusion over 40 minutes; monitor BP every 15 minutes.",
            received_at=time.at(h, 8),
        )
        administration = med.administration_start(
            actor=nurse,
            order=order,
            site="L forearm, 22G cannula",
            lot_number=f"KET-{patient.pk:04d}",
            started_at=time.at(h, 12),
        )
        last = 45 if step is None or step >= ORDER_STEPS.index("recovery") else 15
        readings = []
        for minutes, phase, sys_, dia, hr, spo2, rr, pain, rass, dissociation in DEMO_VITALS:
            if minutes > last:
                break
            readings.append(
                vitals_record(
                    actor=nurse,
                    session=session,
                    measured_at=time.at(h, 12 + minutes),
                    phase=phase,
                    systolic=sys_,
                    diastolic=dia,
                    heart_rate=hr,
                    spo2=spo2,
                    respiratory_rate=rr,
                    pain=pain,
                    sedation_rass=rass,
                    dissociation=dissociation,
                )
            )
        if patient.mrn == "DEMO-1001":
            vitals_mark_entered_in_error(actor=nurse, reading=readings[1], reason="Cuff on the wrong size; repeated")
            med.administration_pause(
                actor=nurse, administration=administration, reason="Nausea", at=time.at(h, 12 + 31)
            )
            side_effect_record(
                actor=nurse,
                session=session,
                kind="nausea_vomiting",
                severity="mild",
                onset_at=time.at(h, 12 + 30),
                action_taken="Infusion paused; ondansetron given",
                resolved_at=time.at(h, 12 + 40),
            )
            med.administration_resume(
                actor=nurse, administration=administration, reason="Nausea settled", at=time.at(h, 12 + 38)
            )
        if state == "in_progress":
            return
        if state == "stopped_early":
            med.administration_stop(
                actor=nurse,
                administration=administration,
                amount_given_value="12",
                amount_given_unit="mg",
                at=time.at(h, 12 + 20),
                early_reason="Severe dissociation; patient asked to stop",
            )
            side_effect_record(
                actor=nurse,
                session=session,
                kind="dissociation",
                severity="severe",
                onset_at=time.at(h, 12 + 18),
                action_taken="Infusion stopped; reassurance",
            )
            return
        med.administration_stop(
            actor=nurse,
            administration=administration,
            amount_given_value="35",
            amount_given_unit="mg",
            at=time.at(h, 12 + 52),
        )
        vitals_record(
            actor=nurse,
            session=session,
            measured_at=time.at(h, 12 + 70),
            phase="post",
            systolic=128,
            diastolic=82,
            heart_rate=76,
            spo2=98,
            respiratory_rate=14,
            pain=2,
            sedation_rass=0,
            dissociation="none",
            moaas=5,
            # CADSS-6, every item 0: the protocol's before-discharge checkpoint asks for it.
            **dict.fromkeys(CADSS6_ITEMS, 0),
        )
        if state == "recovery":
            return
        discharge_record(
            actor=nurse,
            session=session,
            alert_and_oriented=True,
            vitals_near_baseline=True,
            steady_walking=True,
            escort_present_not_driving=True,
            discharged_at=time.at(h, 12 + 80),
            note="Left with her partner driving",
        )
        if state == "discharged":
            return
        session_sign(actor=nurse, session=session)
        if state == "cosigned":
            session_cosign(actor=physician, session=session)
            addendum_add(
                actor=nurse,
                session=session,
                text="Follow-up call: headache-free this evening.",
                reason="Telephone follow-up",
            )
