from django.db import migrations

from records.permissions import sync_role_groups


def forwards(apps, schema_editor):
    sync_role_groups(apps)
    ClinicSettings = apps.get_model("records", "ClinicSettings")
    ClinicSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("records", "0004_session_charting")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
