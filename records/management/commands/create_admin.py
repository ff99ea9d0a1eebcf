import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from records.actions.accounts import account_create
from records.actions.context import Actor
from records.permissions import Role


class Command(BaseCommand):
    help = (
        "Create an account with the admin (auditor) role, for the first sign-in of a new installation. "
        "The password is asked for, or read from CLINIC_ADMIN_PASSWORD."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args, username, first_name, last_name, email, **options):
        password = os.environ.get("CLINIC_ADMIN_PASSWORD") or getpass.getpass("Password for the new admin: ")
        try:
            account_create(
                actor=Actor.system("create_admin"),
                username=username,
                first_name=first_name,
                last_name=last_name,
                email=email,
                role=Role.ADMIN,
                password=password,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Admin account {username} created.")
