from django.db import migrations

from records.db_triggers import forbid_changes


class Migration(migrations.Migration):
    dependencies = [("records", "0002_role_groups")]

    operations = [
        forbid_changes("records_auditevent", "The audit log is append-only: events cannot be changed or deleted."),
    ]
