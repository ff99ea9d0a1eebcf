from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from records.actions.accounts import account_create
from records.actions.context import Actor
from records.actions.patients import patient_create
from records.demo import DEMO_ACCOUNTS, DEMO_PASSWORDS, DEMO_PATIENTS
from records.demo_course import seed_treatment_course
from records.models import Patient, User
from records.permissions import Role


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
            # A year of sessions and outcomes for one patient, so the trends show at once.
            if seed_treatment_course(
                nurse=User.objects.get(username="nurse"), physician=User.objects.get(username="physician")
            ):
                new_patients += 1
        self.stdout.write(f"Demo data: {new_patients} patient(s) added, {len(created_accounts)} account(s) added.")
        self.stdout.write("Demo accounts (demo mode only; the passwords are public):")
        for username, *_ in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<10} password {DEMO_PASSWORDS[username]}")
