"""Issue (or revoke) a personal token for the FHIR read API."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from records.actions.context import ActionRefused, Actor
from records.actions.fhir import api_token_issue, api_token_revoke
from records.models import ApiToken, User


class Command(BaseCommand):
    help = (
        "Issue a FHIR API token for an account and print it once (only its hash is stored), "
        "or with --revoke revoke the account's tokens. Both are recorded in the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for (default: 'issued on the command line').")
        parser.add_argument("--revoke", action="store_true", help="Revoke the account's tokens instead.")
        parser.add_argument("--prefix", default="", help="With --revoke: only the token starting with this.")
        parser.add_argument("--reason", default="", help="With --revoke: why (kept in the audit log).")

    def handle(self, *args, username, name, revoke, prefix, reason, **options):
        account = User.objects.filter(username=username).first()
        if account is None:
            raise CommandError(f"No account has the username {username}.")
        actor = Actor.system("fhir_token command")
        if revoke:
            tokens = ApiToken.objects.filter(account=account, revoked_at__isnull=True)
            if prefix:
                tokens = tokens.filter(prefix__startswith=prefix[:10])
            revoked = 0
            for token in tokens:
                api_token_revoke(actor=actor, token=token, reason=reason or "revoked on the command line")
                revoked += 1
                self.stdout.write(f"Revoked {token.prefix}… ({token.name}).")
            if not revoked:
                raise CommandError(f"{username} has no token to revoke.")
            return
        try:
            _, token = api_token_issue(actor=actor, account=account, name=name or "issued on the command line")
        except (ActionRefused, ValidationError) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        self.stderr.write(f"API token for {username} (shown once; only its hash is stored):")
        self.stdout.write(token)
