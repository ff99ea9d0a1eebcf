from django.db import migrations

from records.db_triggers import forbid_changes
from records.permissions import sync_role_groups


def grant_roles(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("records", "0004_intake_outcomes_and_prints")]

    operations = [
        migrations.RunPython(grant_roles, migrations.RunPython.noop),
        forbid_changes(
            "records_intakerevision", "Intake revisions are kept as written: they cannot be changed or deleted."
        ),
        forbid_changes(
            "records_intakeassessment", "An intake assessment is never deleted; revise it instead.", events=("DELETE",)
        ),
        forbid_changes(
            "records_outcomereport", "Patient-reported outcomes are kept as recorded.", events=("UPDATE", "DELETE")
        ),
    ]
