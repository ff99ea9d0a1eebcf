"""Write the clinic's records in the FHIR Bulk Data format (NDJSON per resource type, and a manifest)."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from records.actions.context import ActionRefused, Actor
from records.fhir.export import ExportOptions, fhir_export


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since must be a day written YYYY-MM-DD; got {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Export the clinic's records as FHIR R4 (Bulk Data format: one NDJSON file per resource type and "
        "manifest.json) into an empty directory. The export is recorded in the audit log as a disclosure."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="Directory to write into (created; must hold no export).")
        parser.add_argument("--patient", default="", metavar="MRN", help="Only this patient's records.")
        parser.add_argument(
            "--since", default="", metavar="YYYY-MM-DD", help="Only what happened on or after this day."
        )
        parser.add_argument("--no-audit", action="store_true", help="Leave out the audit log (AuditEvent.ndjson).")

    def handle(self, *args, output, patient, since, no_audit, **options):
        opts = ExportOptions(patient_mrn=patient.strip(), since=_day(since) if since else None, audit=not no_audit)
        try:
            result = fhir_export(Actor.system("export_fhir command"), opts, Path(output))
        except ActionRefused as refused:
            raise CommandError(str(refused)) from None
        for resource_type, count in result.counts.items():
            self.stdout.write(f"  {resource_type + '.ndjson':<32} {count:>10,}")
        self.stdout.write(self.style.SUCCESS(f"Exported {result.total:,} resources to {result.output_dir}"))
