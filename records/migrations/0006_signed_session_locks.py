from django.db import migrations

from records.db_triggers import forbid_changes, lock_signed_session, lock_with_session

SESSION_COLUMNS = [
    "id",
    "patient_id",
    "planned_route",
    "scheduled_at",
    "chair",
    "primary_nurse_id",
    "supervising_physician_id",
    "status",
    "exit_kind",
    "exit_reason",
    "arrived_at",
    "created_at",
    "signed_by_id",
    "signed_at",
    "signed_name",
    "cosigned_by_id",
    "cosigned_at",
    "cosigned_name",
]

CLINICAL_TABLES = [
    "records_vitalsreading",
    "records_screening",
    "records_order",
    "records_administration",
    "records_administrationevent",
    "records_sideeffect",
    "records_discharge",
]


class Migration(migrations.Migration):
    dependencies = [("records", "0005_session_roles_and_clinic_settings")]

    operations = [
        *(lock_with_session(table) for table in CLINICAL_TABLES),
        lock_signed_session(
            "records_session", SESSION_COLUMNS, mutable=("cosigned_by_id", "cosigned_at", "cosigned_name")
        ),
        forbid_changes("records_addendum", "Addenda are append-only: they cannot be changed or deleted."),
    ]
