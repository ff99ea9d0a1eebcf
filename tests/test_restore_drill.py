"""The backup and restore drill (deploy/backup/restore-drill.sh) run for real: pg_dump, pg_restore, verify_audit.

PostgreSQL only (skipped on SQLite); with CI=true a missing pg_dump fails instead of skipping.
"""

import os
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from records.models import AuditEvent, Patient
from tests.dbtools import triggers_suspended
from tests.pg_clusters import server_bin

DRILL = Path(settings.BASE_DIR) / "deploy" / "backup" / "restore-drill.sh"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.long_running]


def run_drill(tmp_path) -> subprocess.CompletedProcess:
    if connection.vendor != "postgresql":
        pytest.skip("the drill dumps and restores PostgreSQL (DATABASE_URL=postgres://...)")
    if server_bin() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no pg_dump/pg_restore under /usr/lib/postgresql/*/bin: CI must run the drill")
        pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    url = f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RESTORE_DATABASE": f"{db['NAME']}_drill",
        "SECRET_KEY": "restore-drill-test-only",
        "PY": str(Path(settings.BASE_DIR) / ".venv" / "bin" / "python"),
    }
    env.pop("TEST_APP_ROLE", None)
    return subprocess.run(
        ["/bin/bash", str(DRILL), str(tmp_path / "clinic.dump")], env=env, capture_output=True, text=True, timeout=600
    )


def test_the_dump_restores_with_every_row_and_an_intact_audit_log(tmp_path, patient, nurse, client):
    client.force_login(nurse)
    client.get(f"/patients/{patient.pk}/")  # one more audited read
    events, patients = AuditEvent.objects.count(), Patient.objects.count()

    drill = run_drill(tmp_path)

    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert f"records_auditevent: {events} rows, as in the source" in drill.stdout
    assert f"records_patient: {patients} rows, as in the source" in drill.stdout
    assert "Audit chain intact." in drill.stdout
    assert f"Checked {events:,} events" in drill.stdout
    assert (tmp_path / "clinic.dump").stat().st_size > 0
    # The restored copy is dropped afterwards; the source did not change.
    assert AuditEvent.objects.count() == events
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"{connection.settings_dict['NAME']}_drill"])
        assert cursor.fetchone() is None


def test_a_tampered_log_fails_the_drill(tmp_path, patient):
    first = AuditEvent.objects.order_by("seq").first()
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET reason = 'rewritten' WHERE id = %s", [first.pk])

    drill = run_drill(tmp_path)

    assert drill.returncode != 0
    assert "TAMPERING DETECTED" in drill.stderr
    assert "RESTORE DRILL FAILED" in drill.stderr
