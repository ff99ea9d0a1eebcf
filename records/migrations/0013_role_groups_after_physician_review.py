from django.db import migrations

from records.permissions import sync_role_groups


def sync_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    """Bring the role groups in line with records.permissions once every permission's model exists."""

    dependencies = [("records", "0012_audit_actions_of_physician_review")]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
