"""A physician's override of the discharge criteria, and the esketamine REMS Patient Monitoring Form.

Two new tables only (no existing table is altered, so no trigger of 0002-0006 is dropped by a
SQLite rebuild). Triggers, literal SQL per database as in 0003 (the {"vendor": ...} hint makes
records.db_routers.VendorRouter run each only on its database):

- records_dischargeoverride: part of the session's chart, so locked with the session once it is
  signed (as 0002 does for every table with a session), insert-only from the moment it is written
  and never deleted (rule R2).
- records_remsmonitoringform: completed after the discharge, often after the signature (the form is
  due within 7 days), so not locked with the session; insert-only except the submission (date, by
  whom, when), which is set once, all three together; never deleted (rule R2).

Nothing here imports application code.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


SQLITE = [
    "CREATE TRIGGER records_dischargeoverride_locked_insert BEFORE INSERT ON records_dischargeoverride WHEN (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_dischargeoverride_locked_update BEFORE UPDATE ON records_dischargeoverride WHEN ((SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL OR (SELECT signed_at FROM records_session WHERE id = NEW.session_id) IS NOT NULL) BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_dischargeoverride_locked_delete BEFORE DELETE ON records_dischargeoverride WHEN (SELECT signed_at FROM records_session WHERE id = OLD.session_id) IS NOT NULL BEGIN SELECT RAISE(ABORT, 'This session is signed and locked: its records cannot be changed. Add an addendum instead.'); END;",
    "CREATE TRIGGER records_dischargeoverride_kept BEFORE UPDATE ON records_dischargeoverride BEGIN SELECT RAISE(ABORT, 'R2: a discharge override is insert-only: never changed or deleted.'); END;",
    "CREATE TRIGGER records_dischargeoverride_never_deleted BEFORE DELETE ON records_dischargeoverride BEGIN SELECT RAISE(ABORT, 'R2: a discharge override is insert-only: never changed or deleted.'); END;",
    "CREATE TRIGGER records_remsmonitoringform_kept BEFORE UPDATE ON records_remsmonitoringform WHEN NEW.id IS NOT OLD.id OR NEW.session_id IS NOT OLD.session_id OR NEW.lot_number IS NOT OLD.lot_number OR NEW.ready_to_leave IS NOT OLD.ready_to_leave OR NEW.sedation IS NOT OLD.sedation OR NEW.dissociation IS NOT OLD.dissociation OR NEW.respiratory_depression IS NOT OLD.respiratory_depression OR NEW.concomitant_medications IS NOT OLD.concomitant_medications OR NEW.concomitant_note IS NOT OLD.concomitant_note OR NEW.serious_adverse_events IS NOT OLD.serious_adverse_events OR NEW.serious_adverse_events_text IS NOT OLD.serious_adverse_events_text OR NEW.recorded_by_id IS NOT OLD.recorded_by_id OR NEW.recorded_at IS NOT OLD.recorded_at OR (OLD.submitted_at IS NOT NULL AND (NEW.submitted_on IS NOT OLD.submitted_on OR NEW.submitted_by_id IS NOT OLD.submitted_by_id OR NEW.submitted_at IS NOT OLD.submitted_at)) BEGIN SELECT RAISE(ABORT, 'R2: a REMS monitoring form is insert-only: only its submission is set, once, with its date and who.'); END;",
    "CREATE TRIGGER records_remsmonitoringform_never_deleted BEFORE DELETE ON records_remsmonitoringform BEGIN SELECT RAISE(ABORT, 'R2: a REMS monitoring form is insert-only: only its submission is set, once, with its date and who.'); END;",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS records_dischargeoverride_locked_insert;",
    "DROP TRIGGER IF EXISTS records_dischargeoverride_locked_update;",
    "DROP TRIGGER IF EXISTS records_dischargeoverride_locked_delete;",
    "DROP TRIGGER IF EXISTS records_dischargeoverride_kept;",
    "DROP TRIGGER IF EXISTS records_dischargeoverride_never_deleted;",
    "DROP TRIGGER IF EXISTS records_remsmonitoringform_kept;",
    "DROP TRIGGER IF EXISTS records_remsmonitoringform_never_deleted;",
]

POSTGRESQL = [
    """
CREATE OR REPLACE FUNCTION records_dischargeoverride_refuse_when_signed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM records_session WHERE id = NEW.session_id AND signed_at IS NOT NULL) THEN
            RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM records_session WHERE id = OLD.session_id AND signed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'This session is signed and locked: its records cannot be changed. Add an addendum instead.' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_dischargeoverride_locked BEFORE INSERT OR UPDATE OR DELETE ON records_dischargeoverride
    FOR EACH ROW EXECUTE FUNCTION records_dischargeoverride_refuse_when_signed();
CREATE OR REPLACE FUNCTION records_dischargeoverride_keep() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'R2: a discharge override is insert-only: never changed or deleted.' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_dischargeoverride_kept BEFORE UPDATE OR DELETE ON records_dischargeoverride
    FOR EACH ROW EXECUTE FUNCTION records_dischargeoverride_keep();
CREATE TRIGGER records_dischargeoverride_no_truncate BEFORE TRUNCATE ON records_dischargeoverride
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
CREATE OR REPLACE FUNCTION records_remsmonitoringform_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       OR (to_jsonb(NEW) - 'submitted_on' - 'submitted_by_id' - 'submitted_at')
          IS DISTINCT FROM (to_jsonb(OLD) - 'submitted_on' - 'submitted_by_id' - 'submitted_at')
       OR (OLD.submitted_at IS NOT NULL
           AND (NEW.submitted_on, NEW.submitted_by_id, NEW.submitted_at)
               IS DISTINCT FROM (OLD.submitted_on, OLD.submitted_by_id, OLD.submitted_at))
    THEN
        RAISE EXCEPTION 'R2: a REMS monitoring form is insert-only: only its submission is set, once, with its date and who.' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_remsmonitoringform_kept BEFORE UPDATE OR DELETE ON records_remsmonitoringform
    FOR EACH ROW EXECUTE FUNCTION records_remsmonitoringform_keep();
CREATE TRIGGER records_remsmonitoringform_no_truncate BEFORE TRUNCATE ON records_remsmonitoringform
    FOR EACH STATEMENT EXECUTE FUNCTION records_clinical_refuse_truncate();
""",
]
POSTGRESQL_DROP = [
    """
DROP TRIGGER IF EXISTS records_dischargeoverride_locked ON records_dischargeoverride;
DROP TRIGGER IF EXISTS records_dischargeoverride_kept ON records_dischargeoverride;
DROP TRIGGER IF EXISTS records_dischargeoverride_no_truncate ON records_dischargeoverride;
DROP FUNCTION IF EXISTS records_dischargeoverride_refuse_when_signed();
DROP FUNCTION IF EXISTS records_dischargeoverride_keep();
DROP TRIGGER IF EXISTS records_remsmonitoringform_kept ON records_remsmonitoringform;
DROP TRIGGER IF EXISTS records_remsmonitoringform_no_truncate ON records_remsmonitoringform;
DROP FUNCTION IF EXISTS records_remsmonitoringform_keep();
""",
]


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0007_monitoring_protocols"),
    ]

    operations = [
        migrations.CreateModel(
            name="DischargeOverride",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "physician_name",
                    models.CharField(help_text="Printed name at the moment of the decision.", max_length=300),
                ),
                ("reason", models.TextField(max_length=2000)),
                ("unmet", models.TextField(max_length=4000, verbose_name="Criteria not met at the time")),
                ("at", models.DateTimeField()),
                (
                    "physician",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="discharge_overrides",
                        to="records.session",
                    ),
                ),
            ],
            options={
                "ordering": ["at", "id"],
                "permissions": [
                    ("override_discharge", "Can discharge before the criteria are met, with a written reason")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("reason__regex", "\\S")), name="discharge_override_has_reason"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RemsMonitoringForm",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("lot_number", models.CharField(max_length=200, verbose_name="Lot number(s) as on the devices")),
                (
                    "ready_to_leave",
                    models.CharField(
                        choices=[
                            ("under_60", "Less than 60 minutes after the first dose"),
                            ("60_to_89", "60 to 89 minutes"),
                            ("90_to_119", "90 to 119 minutes"),
                            ("120", "At 120 minutes"),
                            ("over_120", "More than 120 minutes"),
                        ],
                        max_length=12,
                        verbose_name="If there were no 2-hour minimum, when would the patient have been ready to leave?",
                    ),
                ),
                (
                    "sedation",
                    models.CharField(choices=[("yes", "Yes"), ("no", "No")], max_length=3, verbose_name="Sedation"),
                ),
                (
                    "dissociation",
                    models.CharField(choices=[("yes", "Yes"), ("no", "No")], max_length=3, verbose_name="Dissociation"),
                ),
                (
                    "respiratory_depression",
                    models.CharField(
                        choices=[("yes", "Yes"), ("no", "No")], max_length=3, verbose_name="Respiratory depression"
                    ),
                ),
                ("concomitant_medications", models.JSONField(blank=True, default=list)),
                (
                    "concomitant_note",
                    models.CharField(
                        blank=True, max_length=1000, verbose_name="Concomitant medicines (names, as documented)"
                    ),
                ),
                (
                    "serious_adverse_events",
                    models.CharField(
                        choices=[("yes", "Yes"), ("no", "No")], max_length=3, verbose_name="Serious adverse events"
                    ),
                ),
                (
                    "serious_adverse_events_text",
                    models.TextField(blank=True, max_length=4000, verbose_name="Describe the serious adverse events"),
                ),
                ("recorded_at", models.DateTimeField()),
                ("submitted_on", models.DateField(blank=True, null=True, verbose_name="Date submitted")),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="rems_form", to="records.session"
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "permissions": [("submit_rems_form", "Can record that a REMS monitoring form was submitted")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("lot_number__regex", "\\S")), name="rems_form_lot_not_blank"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("serious_adverse_events", "no"),
                            ("serious_adverse_events_text__regex", "\\S"),
                            _connector="OR",
                        ),
                        name="rems_form_sae_described",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("submitted_at__isnull", True),
                                ("submitted_by__isnull", True),
                                ("submitted_on__isnull", True),
                            ),
                            models.Q(
                                ("submitted_at__isnull", False),
                                ("submitted_by__isnull", False),
                                ("submitted_on__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="rems_form_submission_complete",
                    ),
                ],
            },
        ),
        migrations.RunSQL(SQLITE, SQLITE_DROP, hints={"vendor": "sqlite"}),
        migrations.RunSQL(POSTGRESQL, POSTGRESQL_DROP, hints={"vendor": "postgresql"}),
    ]
