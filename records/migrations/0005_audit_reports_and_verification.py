"""Make the chain position required, index the reports, record verification runs.

On SQLite the table rebuilds below drop a table's triggers, so the append-only
triggers are (re)installed at the end, for the events and for the runs.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from records.db_triggers import forbid_changes
from records.permissions import sync_role_groups


def sync_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0004_audit_chain"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, unique=True),
        ),
        migrations.CreateModel(
            name="AuditVerification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("started_at", models.DateTimeField()),
                ("finished_at", models.DateTimeField()),
                ("started_by_name", models.CharField(max_length=150)),
                (
                    "result",
                    models.CharField(choices=[("intact", "Intact"), ("tampered", "Tampering detected")], max_length=16),
                ),
                ("events_checked", models.PositiveBigIntegerField()),
                ("rows_per_second", models.PositiveIntegerField()),
                ("head_seq", models.PositiveBigIntegerField(blank=True, null=True)),
                ("head_hash", models.CharField(blank=True, max_length=64)),
                ("first_bad_seq", models.PositiveBigIntegerField(blank=True, null=True)),
                ("first_bad_event_id", models.BigIntegerField(blank=True, null=True)),
                ("problem", models.TextField(blank=True)),
            ],
            options={
                "ordering": ["-finished_at", "-id"],
            },
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["-occurred_at", "-seq"],
                "permissions": [
                    ("view_audit_log", "Can read the audit log"),
                    ("verify_audit_chain", "Can start a verification of the audit chain"),
                ],
            },
        ),
        migrations.RemoveIndex(
            model_name="auditevent",
            name="audit_patient_time_idx",
        ),
        migrations.RemoveIndex(
            model_name="auditevent",
            name="audit_actor_time_idx",
        ),
        migrations.RemoveIndex(
            model_name="auditevent",
            name="audit_action_time_idx",
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="occurred_at",
            field=models.DateTimeField(help_text="Server time, stored in UTC."),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["occurred_at", "seq"], name="audit_time_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["patient", "occurred_at", "seq"], name="audit_patient_time_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor", "occurred_at", "seq"], name="audit_actor_time_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action", "occurred_at", "seq"], name="audit_action_time_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["record_type", "record_id", "occurred_at"], name="audit_record_time_idx"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(condition=models.Q(("seq__gte", 1)), name="audit_seq_positive"),
        ),
        migrations.AddField(
            model_name="auditverification",
            name="started_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="auditverification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("problem", ""), ("result", "intact")),
                    models.Q(("result", "tampered"), models.Q(("problem", ""), _negated=True)),
                    _connector="OR",
                ),
                name="verification_result_matches_problem",
            ),
        ),
        forbid_changes("records_auditevent", "The audit log is append-only: events cannot be changed or deleted."),
        forbid_changes(
            "records_auditverification",
            "Verification runs are append-only: they cannot be changed or deleted.",
        ),
        migrations.RunPython(sync_groups, migrations.RunPython.noop),
    ]
