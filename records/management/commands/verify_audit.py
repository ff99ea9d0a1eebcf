"""Walk the audit log's hash chain, check every signed session's seal, and say whether all is intact.

Exit status 0: intact. 1: tampering detected (the first bad event is named, and every
signed session whose content no longer matches its signature's seal).

`--expect SEQ:HASH` (repeatable) checks the chain against a head written down outside
the database (the "Head:" line an earlier run printed): the event at position SEQ must
still have hash HASH, which a rewrite of the chain inside the database cannot fake.
"""

from django.core.management.base import BaseCommand, CommandError

from records.actions.audit import audit_chain_verify
from records.actions.context import Actor
from records.audit.chain import parse_expected_head


class Command(BaseCommand):
    help = (
        "Verify the audit log's SHA-256 hash chain and the seals of signed sessions; "
        "exits non-zero if any event or any signed content was altered."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="A head kept outside the database: the event at position SEQ must have this hash. Repeatable.",
        )

    def handle(self, *args, **options):
        try:
            expected = [parse_expected_head(text) for text in options["expect"]]
        except ValueError as error:
            raise CommandError(f"--expect {error}") from error

        def progress(checked: int) -> None:
            self.stdout.write(f"  {checked:,} events checked ...")

        run = audit_chain_verify(actor=Actor.system("verify_audit command"), progress=progress, expected=expected)
        report = run.report
        seals = report.seals
        self.stdout.write(
            f"Checked {report.checked:,} events in {report.seconds:.2f} s ({report.rows_per_second:,.0f} events/s)."
        )
        if seals is not None:
            self.stdout.write(
                f"Checked the seals of {seals.sessions_checked:,} signed sessions ({seals.seals_checked:,} seals)."
            )
            if seals.unsealed:
                self.stdout.write(
                    f"  {seals.unsealed:,} signed before seals were written: their content is not sealed."
                )
        for expected_seq, expected_hash in expected:
            if report.intact:
                self.stdout.write(f"Position {expected_seq} has the expected hash {expected_hash}.")
        broken = seals.broken if seals is not None else []
        for session in broken:
            self.stderr.write(f"SIGNED CONTENT CHANGED: {session.describe()}")
        if not report.intact:
            raise CommandError(f"TAMPERING DETECTED. First bad event: {report.problem}")
        if broken:
            names = ", ".join(str(s.session_id) for s in broken)
            raise CommandError(
                f"TAMPERING DETECTED. The signed content of session(s) {names} no longer matches its signature's seal."
            )
        if report.head_seq:
            # Worth copying into a log kept outside this database: a later rewrite
            # of the chain cannot reproduce this hash at this position.
            self.stdout.write(f"Head: position {report.head_seq}, hash {report.head_hash}")
            self.stdout.write(f"  (check it later with: verify_audit --expect {report.head_seq}:{report.head_hash})")
        self.stdout.write(self.style.SUCCESS("Audit chain intact."))
