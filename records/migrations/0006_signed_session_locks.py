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

ORDER_COLUMNS = [
    "id",
    "session_id",
    "ordering_physician_id",
    "outside_prescriber",
    "received_as",
    "read_back_confirmed",
    "medication",
    "dose_value",
    "dose_unit",
    "route",
    "rate_text",
    "order_text",
    "received_at",
    "documented_by_id",
    "documented_at",
    "cosign_due_at",
    "cosigned_by_id",
    "cosigned_at",
]

CLINICAL_TABLES = [
    "records_vitalsreading",
    "records_screening",
    "records_administration",
    "records_administrationevent",
    "records_sideeffect",
    "records_discharge",
]


class Migration(migrations.Migration):
    dependencies = [("records", "0005_session_roles_and_clinic_settings")]

    operations = [
        *(lock_with_session(table) for table in CLINICAL_TABLES),
        # A verbal or telephone order is co-signed by its physician after the session is signed.
        lock_with_session("records_order", columns=ORDER_COLUMNS, cosignature=("cosigned_by_id", "cosigned_at")),
        lock_signed_session(
            "records_session", SESSION_COLUMNS, mutable=("cosigned_by_id", "cosigned_at", "cosigned_name")
        ),
        forbid_changes("records_addendum", "Addenda are append-only: they cannot be changed or deleted."),
    ]
