"""Load invented data at the scale of a working clinic, for measuring (demo mode only).

    python manage.py seed_scale --clinic-years 1

records.management.demo.scale says what a clinic-year holds and how it goes in fast
without getting past the database's guards.
"""

import secrets
import time
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from records.actions.accounts import account_create
from records.actions.context import Actor
from records.actions.patients import patient_create
from records.management.demo.scale import CHAIRS, Counts, Staff, seed, sessions_for
from records.models import Patient, User
from records.permissions import Role

NURSES = CHAIRS // 2  # a nurse for two chairs
PHYSICIANS = 4
# Enough patients that one has about 150 sessions after a few clinic-years (a course, then maintenance).
SESSIONS_PER_PATIENT = 40
MAX_PATIENTS = 2_000


class Command(BaseCommand):
    help = "Load N clinic-years of invented, charted, signed sessions with their audit chain (demo mode only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clinic-years", type=float, required=True, help="How much: 1 is 20,000 sessions (fractions allowed)."
        )
        parser.add_argument("--seed", type=int, default=12, help="Random seed (the same seed gives the same data).")

    def handle(self, *args, **options):
        if not (settings.DEMO_MODE or settings.DEBUG):
            raise CommandError(
                "seed_scale creates accounts and invented patients; it runs only with DEMO_MODE=1, never in production."
            )
        years = options["clinic_years"]
        if not 0 < years <= 50:
            raise CommandError("--clinic-years must be more than 0 and at most 50 (for example 0.05, 1 or 10).")
        started = time.perf_counter()
        actor = Actor.system("seed_scale")
        staff = Staff(
            nurses=[self._account(actor, f"scale_nurse{n}", "Nurse", Role.NURSE) for n in range(1, NURSES + 1)],
            physicians=[
                self._account(actor, f"scale_physician{n}", "Physician", Role.PHYSICIAN)
                for n in range(1, PHYSICIANS + 1)
            ],
        )
        total = sessions_for(years)
        patients = self._patients(actor, min(MAX_PATIENTS, max(10, total // SESSIONS_PER_PATIENT)))
        self.stdout.write(f"Seeding {total:,} sessions ({years:g} clinic-years) for {len(patients):,} patients ...")
        last = [started]

        def progress(counts: Counts, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] < 2 and counts.sessions < total:
                return
            last[0] = now
            elapsed = now - started
            share = counts.sessions / total
            eta = elapsed / share - elapsed if share else 0
            bar = "#" * int(share * 30)
            self.stdout.write(
                f"  [{bar:<30}] {share:4.0%} {counts.sessions:,}/{total:,} sessions, {counts.readings:,} readings, "
                f"{counts.events:,} audit events, {elapsed:.0f} s (about {eta:.0f} s left)"
            )

        counts = seed(
            clinic_years=years,
            staff=staff,
            patients=patients,
            end=timezone.localdate(),
            seed=options["seed"],
            progress=progress,
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {counts.sessions:,} sessions, {counts.readings:,} readings, {counts.outcomes:,} outcome "
                f"reports and {counts.events:,} audit events in {elapsed:.1f} s."
            )
        )

    def _account(self, actor: Actor, username: str, last_name: str, role: Role) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = account_create(
                actor=actor,
                username=username,
                first_name="Scale",
                last_name=f"{last_name} {username.removeprefix('scale_')}",
                role=role,
                # Nobody signs in as these accounts; a benchmark logs them in without a password.
                password=secrets.token_urlsafe(24),
            )
        return user

    def _patients(self, actor: Actor, count: int) -> list[int]:
        found = list(Patient.objects.filter(mrn__startswith="SCALE-").order_by("pk").values_list("pk", flat=True))
        for n in range(len(found), count):
            patient = patient_create(
                actor=actor,
                mrn=f"SCALE-{n + 1:05d}",
                family_name=f"Scale{n + 1}",
                given_name="Pat",
                date_of_birth=date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                sex="female" if n % 2 else "male",
                allergies="No known allergies",
            )
            found.append(patient.pk)
        return found[:count]
