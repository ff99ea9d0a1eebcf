from django.db import migrations

from records.db_triggers import lock_with_session_except_cosignature

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


class Migration(migrations.Migration):
    dependencies = [("records", "0008_outcome_at_session")]

    operations = [
        lock_with_session_except_cosignature(
            "records_order", ORDER_COLUMNS, cosign_columns=("cosigned_at", "cosigned_by_id")
        ),
    ]
