"""Link the audit events into a SHA-256 hash chain (records.audit_chain).

Existing events are chained in the order they were written (by id). The
append-only triggers are lifted for that, then put back by the next migration.
"""

from django.db import migrations, models

from records.audit_chain import GENESIS_HASH, HASHED_COLUMNS, event_hash
from records.db_triggers import forbid_changes

APPEND_ONLY = "The audit log is append-only: events cannot be changed or deleted."


def chain_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("records", "AuditEvent")
    prev = GENESIS_HASH
    columns = [c for c in HASHED_COLUMNS if c not in ("seq", "prev_hash")]
    for seq, row in enumerate(AuditEvent.objects.order_by("id").values(*columns).iterator(), start=1):
        row.update(seq=seq, prev_hash=prev)
        entry = event_hash(row)
        AuditEvent.objects.filter(pk=row["id"]).update(seq=seq, prev_hash=prev, entry_hash=entry)
        prev = entry


class Migration(migrations.Migration):
    dependencies = [("records", "0003_audit_append_only")]

    operations = [
        forbid_changes("records_auditevent", APPEND_ONLY, reverse=True),
        migrations.AddField(
            model_name="auditevent",
            name="entry_hash",
            field=models.CharField(
                default="", editable=False, help_text="SHA-256 of this event's content.", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(
                default="", editable=False, help_text="entry_hash of the event at seq - 1.", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("create", "Create"),
                    ("update", "Update"),
                    ("view", "View"),
                    ("deactivate", "Deactivate"),
                    ("reactivate", "Reactivate"),
                    ("login", "Log in"),
                    ("logout", "Log out"),
                    ("login_failed", "Failed log-in"),
                    ("access_denied", "Access denied"),
                    ("password_change", "Password change"),
                    ("role_change", "Role change"),
                    ("search", "Search"),
                    ("print", "Print"),
                    ("export", "Export"),
                    ("disclosure", "Disclosure"),
                    ("verify", "Chain verification"),
                ],
                max_length=32,
            ),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
    ]
