"""Reads that may lag go to a real PostgreSQL streaming replica; writes, audit events and a user's fresh writes do not.

A throwaway primary (replication allowed) is made on loopback and given a copy of the
test database; a standby is made from it with `pg_basebackup -R`. For this module the
"default" connection is that primary, and "replica" the standby, configured as
DATABASE_REPLICA_URL would (settings: TEST MIRROR "default", so it reads the test
database as it replicates). On SQLite there is no replica: skipped. With CI=true on
PostgreSQL it must run: a missing server binary fails instead of skipping.
"""

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from records import replica
from records.models import AuditEvent
from tests.pg_clusters import make_primary, make_standby, prepare_base, server_bin, wait_for_replay
from tests.views.test_patient_views import VALID

IN_CI = os.environ.get("CI") == "true"
# Committed writes (the standby only sees those); "replica" is a test mirror, never flushed.
pytestmark = [pytest.mark.django_db(transaction=True, databases=["default", "replica"]), pytest.mark.long_running]


def _needs_postgres() -> Path:
    if connection.vendor != "postgresql":
        pytest.skip("a streaming replica needs PostgreSQL (DATABASE_URL=postgres://...)")
    bin_dir = server_bin()
    if bin_dir is None:
        message = "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
        if IN_CI:
            pytest.fail(f"{message}: CI must run the replica tests")
        pytest.skip(message)
    return bin_dir


@pytest.fixture(scope="module")
def clusters(django_db_setup, django_db_blocker):
    """The primary (with a copy of the test database) and its standby, for the whole module."""
    bin_dir = _needs_postgres()
    base = Path(tempfile.mkdtemp(prefix="clinic-replica-"))
    prepare_base(base)
    primary = standby = None
    source = connections["default"].settings_dict
    try:
        primary = make_primary(bin_dir, base)
        name = source["NAME"]
        with primary.connect() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
        dump = subprocess.run(
            [str(bin_dir / "pg_dump"), "-Fc", "-h", source["HOST"] or "127.0.0.1", "-p", str(source["PORT"] or 5432),
             "-U", source["USER"] or "postgres", name],
            check=True, capture_output=True, env=env, timeout=300,
        ).stdout  # fmt: skip
        subprocess.run(
            [str(bin_dir / "pg_restore"), "--no-owner", "--no-acl", "-h", "127.0.0.1", "-p", str(primary.port),
             "-U", "postgres", "-d", name],
            check=True, input=dump, capture_output=True, timeout=300,
        )  # fmt: skip
        standby = make_standby(primary, base)
        yield primary, standby
    finally:
        for cluster in (standby, primary):
            if cluster is not None:
                cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def replicated(clusters, django_db_blocker):
    """For the module: "default" is the throwaway primary, "replica" its standby."""
    primary, standby = clusters
    default = connections["default"]
    saved = {key: default.settings_dict[key] for key in ("HOST", "PORT", "OPTIONS")}
    with django_db_blocker.unblock():
        default.close()
        if hasattr(default, "close_pool"):
            default.close_pool()
    default.settings_dict.update(HOST="127.0.0.1", PORT=primary.port, OPTIONS={"pool": False})
    connections.settings["replica"] = {
        **default.settings_dict,
        "PORT": standby.port,
        # As settings.py configures DATABASE_REPLICA_URL.
        "OPTIONS": {"pool": False, "connect_timeout": 3},
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {**default.settings_dict["TEST"], "MIRROR": "default"},
    }
    try:
        yield primary, standby
    finally:
        with django_db_blocker.unblock():
            for alias in ("replica", "default"):
                connections[alias].close()
        del connections["replica"]
        del connections.settings["replica"]
        default.settings_dict.update(saved)


@pytest.fixture
def on_replica(replicated, settings):
    """Each test starts with the replica answering, caught up, and no failure remembered."""
    primary, standby = replicated
    settings.REPLICA_RETRY_SECONDS = 300
    replica.reset_replica_state()
    with primary.connect() as p, standby.connect() as s:
        wait_for_replay(p, s)
    yield primary, standby
    replica.reset_replica_state()


def caught_up(primary, standby) -> None:
    with primary.connect() as p, standby.connect() as s:
        wait_for_replay(p, s)


def report_reads(captured) -> list[str]:
    return [q["sql"] for q in captured if "records_auditevent" in q["sql"] and q["sql"].lstrip().startswith("SELECT")]


def test_the_audit_report_reads_the_replica_once_replicated_and_writes_on_the_primary(
    on_replica, client, admin_user, nurse, patient
):
    primary, standby = on_replica
    client.force_login(admin_user)
    caught_up(primary, standby)

    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections["replica"]) as on_standby,
    ):
        response = client.get(reverse("audit_log"), {"patient": patient.mrn})

    assert response.status_code == 200
    # The report's rows came from the replica, and it has what the primary wrote (the patient's registration).
    assert report_reads(on_standby.captured_queries)
    assert patient.mrn in response.content.decode()
    assert not any(q["sql"].lstrip().startswith(("INSERT", "UPDATE", "DELETE")) for q in on_standby.captured_queries)
    # The view event of the report is written on the primary (the only place a write can go).
    assert any(q["sql"].lstrip().startswith("INSERT") and "records_auditevent" in q["sql"] for q in on_primary)
    viewed = AuditEvent.objects.filter(record_type="audit_report", actor=admin_user).get()
    caught_up(primary, standby)
    assert AuditEvent.objects.using("replica").filter(pk=viewed.pk).exists()


def test_a_users_own_write_is_read_from_the_primary_until_the_replica_has_it(on_replica, client, nurse, patient):
    primary, standby = on_replica
    client.force_login(nurse)
    history = reverse("patient_history", args=[patient.pk])
    with CaptureQueriesContext(connections["replica"]) as on_standby:
        assert client.get(history).status_code == 200
    assert any("records_session" in q["sql"] for q in on_standby.captured_queries), "history read from the replica"

    with standby.connect() as s:
        s.execute("SELECT pg_wal_replay_pause()")
    try:
        data = {**VALID, "mrn": patient.mrn, "family_name": "Testwood-Ames", "version": patient.version}
        assert client.post(reverse("patient_edit", args=[patient.pk]), data).status_code == 302
        with CaptureQueriesContext(connections["replica"]) as on_standby:
            page = client.get(history).content.decode()
        # The replica has not replayed the edit: the nurse's next read is the primary's, and shows it.
        assert "TESTWOOD-AMES" in page.upper()
        assert [q["sql"] for q in on_standby.captured_queries if "records_" in q["sql"]] == []
    finally:
        with standby.connect() as s:
            s.execute("SELECT pg_wal_replay_resume()")
    caught_up(primary, standby)
    with CaptureQueriesContext(connections["replica"]) as on_standby:
        assert "TESTWOOD-AMES" in client.get(history).content.decode().upper()
    assert any("records_session" in q["sql"] for q in on_standby.captured_queries), "back on the replica"


def test_with_the_replica_down_the_page_answers_from_the_primary_with_one_log_line(
    on_replica, client, admin_user, patient, caplog
):
    _primary, standby = on_replica
    client.force_login(admin_user)
    standby.stop()
    try:
        with (
            caplog.at_level(logging.WARNING, logger="records.replica"),
            CaptureQueriesContext(connections["default"]) as on_primary,
        ):
            first = client.get(reverse("audit_log"), {"patient": patient.mrn})
            second = client.get(reverse("audit_patient_access"), {"patient": patient.mrn})
        assert first.status_code == 200 and second.status_code == 200
        assert patient.mrn in first.content.decode()
        assert report_reads(on_primary.captured_queries)
        lines = [r for r in caplog.records if r.name == "records.replica"]
        assert len(lines) == 1, [r.getMessage() for r in lines]
        assert "Replica not answering" in lines[0].getMessage()
    finally:
        standby.start()
