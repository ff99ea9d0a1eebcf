"""FHIR bulk export: time and peak memory for a clinic-year of data, and for a quarter of it.

Run on purpose (pytest does not collect it):

    .venv/bin/python benchmarks/fhir_export.py                      # SQLite, in a temporary file
    .venv/bin/python benchmarks/fhir_export.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/fhir_export.py --sessions 750,3000 --audit-per-session 40

A clinic-year here: 6 chairs, two sessions a day, 250 days = 3,000 sessions of 300
patients, each session with a screening, one order, one administration (start, a
pause and resume, stop), ten flowsheet rows (BP, heart rate, SpO2, respiratory rate,
pain, RASS, dissociation; every tenth row with temperature and weight), discharge,
signature and co-signature, a side effect in one session of five; a monthly outcome
report per patient; 40 audit events per session.

The accounts and patients are made with the real actions. The year's sessions are
then written in bulk (the actions would take tens of minutes), in the order the
database's lock triggers allow: rows first, the signatures last. Audit events are
bulk-inserted with placeholder hashes: the export copies them, it does not verify
the chain. All of it goes into a throwaway database (a temporary SQLite file, or
the database `clinic_bench_fhir` created on the given PostgreSQL server and dropped
at the end).

For each size the export runs in a fresh process (the `export_fhir` command), so its
peak resident memory (VmHWM, read by that process itself) is the export's alone. Constant memory
shows as the same peak at both sizes while the time grows with the data.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "clinic_bench_fhir"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="750,3000", help="comma-separated cumulative sizes (sessions)")
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--readings", type=int, default=10, help="flowsheet rows per session")
    parser.add_argument("--audit-per-session", type=int, default=40)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (admin URL); default: SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the database and the exports")
    return parser.parse_args()


def env_for(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only"),
        "DEBUG": "0",  # no query log in memory
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }


def setup_django(url: str) -> None:
    os.environ.update(env_for(url))
    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def recreate_postgres(admin_url: str, drop_only: bool = False) -> str:
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return admin_url.rsplit("/", 1)[0] + "/" + BENCH_DB


class Builder:
    """Writes sessions in bulk, continuing where the previous size stopped."""

    def __init__(self, patients: int, readings: int, audit_per_session: int):
        from django.core.management import call_command

        from records.actions.accounts import account_create
        from records.actions.context import Actor
        from records.actions.patients import patient_create
        from records.permissions import Role

        call_command("migrate", verbosity=0)
        system = Actor.system("benchmark")
        self.nurses, self.physicians = [], []
        for n in range(4):
            for role, bucket in ((Role.NURSE, self.nurses), (Role.PHYSICIAN, self.physicians)):
                bucket.append(
                    account_create(
                        actor=system,
                        username=f"{role.value}{n}",
                        first_name=role.value.title(),
                        last_name=f"Bench{n}",
                        role=role,
                        password="Bench-password-123",  # noqa: S106 (throwaway benchmark database)
                    )
                )
        self.patients = [
            patient_create(
                actor=system,
                mrn=f"B{n:06d}",
                family_name=f"Family{n}",
                given_name="Bench",
                date_of_birth=date(1960 + n % 45, 1 + n % 12, 1 + n % 28),
                sex="female" if n % 3 else "male",
                allergies="No known allergies",
            )
            for n in range(patients)
        ]
        self.readings, self.audit_per_session = readings, audit_per_session
        self.built = 0
        self.end = datetime.now(UTC) - timedelta(days=1)

    def build_to(self, total: int, year_sessions: int) -> float:
        started = time.perf_counter()
        while self.built < total:
            batch = min(500, total - self.built)
            self._batch(self.built, batch, year_sessions)
            self.built += batch
        return time.perf_counter() - started

    def _batch(self, first: int, count: int, year_sessions: int) -> None:
        from django.db import transaction

        from records.models import (
            Administration,
            AdministrationEvent,
            Discharge,
            Order,
            Screening,
            Session,
            SideEffect,
            VitalsReading,
        )

        span = timedelta(days=365) / max(year_sessions, 1)
        with transaction.atomic():
            sessions = []
            for n in range(first, first + count):
                start = self.end - span * (year_sessions - n)
                sessions.append(
                    Session(
                        patient=self.patients[n % len(self.patients)],
                        planned_route="iv_infusion",
                        scheduled_at=start,
                        chair=f"Chair {n % 6 + 1}",
                        primary_nurse=self.nurses[n % 4],
                        supervising_physician=self.physicians[n % 4],
                        status="discharged",
                        arrived_at=start,
                    )
                )
            Session.objects.bulk_create(sessions)
            readings, orders = [], []
            for i, session in enumerate(sessions):
                start, nurse = session.scheduled_at, session.primary_nurse
                for r in range(self.readings):
                    readings.append(
                        VitalsReading(
                            session=session,
                            measured_at=start + timedelta(minutes=5 + 10 * r),
                            entered_at=start + timedelta(minutes=6 + 10 * r),
                            entered_by=nurse,
                            phase="pre" if r == 0 else ("post" if r == self.readings - 1 else "during"),
                            systolic=120 + (i + r) % 40,
                            diastolic=70 + (i + r) % 20,
                            heart_rate=60 + (i * 7 + r) % 40,
                            spo2=95 + r % 5,
                            respiratory_rate=12 + r % 6,
                            pain=(i + r) % 11,
                            sedation_rass=-(r % 3),
                            dissociation=("none", "mild", "moderate")[r % 3],
                            temperature=None if r % 10 else "36.8",
                            weight_kg=None if r % 10 else "71.5",
                        )
                    )
                orders.append(
                    Order(
                        session=session,
                        ordering_physician=session.supervising_physician,
                        received_as="written",
                        medication="Ketamine",
                        dose_value="0.5",
                        dose_unit="mg/kg/h",
                        route="iv_infusion",
                        rate_text="over 40 minutes",
                        order_text="Ketamine 0.5 mg/kg/h IV infusion over 40 minutes",
                        received_at=start,
                        documented_by=nurse,
                        documented_at=start,
                    )
                )
            VitalsReading.objects.bulk_create(readings)
            Order.objects.bulk_create(orders)
            administrations = [
                Administration(
                    session=s,
                    order=o,
                    state="stopped",
                    site="L forearm 22G",
                    lot_number=f"KET-{s.pk % 97:03d}",
                    started_at=s.scheduled_at + timedelta(minutes=10),
                    started_by=s.primary_nurse,
                    stopped_at=s.scheduled_at + timedelta(minutes=52),
                    stopped_by=s.primary_nurse,
                    amount_given_value="35",
                    amount_given_unit="mg",
                )
                for s, o in zip(sessions, orders, strict=True)
            ]
            Administration.objects.bulk_create(administrations)
            events = []
            for a in administrations:
                for minutes, kind, reason in (
                    (10, "start", ""),
                    (25, "pause", "Nausea"),
                    (28, "resume", "Settled"),
                    (52, "stop", ""),
                ):
                    events.append(
                        AdministrationEvent(
                            session=a.session,
                            administration=a,
                            kind=kind,
                            occurred_at=a.session.scheduled_at + timedelta(minutes=minutes),
                            reason=reason,
                            recorded_by=a.started_by,
                        )
                    )
            AdministrationEvent.objects.bulk_create(events)
            first_rows = {}
            for reading in readings:
                first_rows.setdefault(reading.session_id, reading)
            Screening.objects.bulk_create(
                [
                    Screening(
                        session=s,
                        bp_reading=first_rows[s.pk],
                        hypertension_history="no",
                        hypertension_uncontrolled="no",
                        psychosis_history="no",
                        psychosis_current="no",
                        pregnancy="not_pregnant_na",
                        pregnancy_note="Post-menopausal",
                        bp_hold_systolic=180,
                        bp_hold_diastolic=100,
                        outcome="cleared",
                        screened_by=s.primary_nurse,
                        screened_at=s.scheduled_at + timedelta(minutes=6),
                    )
                    for s in sessions
                ]
            )
            SideEffect.objects.bulk_create(
                [
                    SideEffect(
                        session=s,
                        kind="nausea_vomiting",
                        severity="mild",
                        onset_at=s.scheduled_at + timedelta(minutes=24),
                        action_taken="Paused; ondansetron",
                        resolved_at=s.scheduled_at + timedelta(minutes=30),
                        recorded_by=s.primary_nurse,
                        recorded_at=s.scheduled_at + timedelta(minutes=31),
                    )
                    for n, s in enumerate(sessions)
                    if (first + n) % 5 == 0
                ]
            )
            Discharge.objects.bulk_create(
                [
                    Discharge(
                        session=s,
                        alert_and_oriented=True,
                        vitals_near_baseline=True,
                        steady_walking=True,
                        escort_present_not_driving=True,
                        discharged_at=s.scheduled_at + timedelta(minutes=120),
                        discharged_by=s.primary_nurse,
                    )
                    for s in sessions
                ]
            )
            # The signatures last: a signed session's rows are locked by the database.
            for s in sessions:
                Session.objects.filter(pk=s.pk).update(
                    status="cosigned",
                    signed_by=s.primary_nurse,
                    signed_at=s.scheduled_at + timedelta(minutes=125),
                    signed_name=s.primary_nurse.printed_name,
                    cosigned_by=s.supervising_physician,
                    cosigned_at=s.scheduled_at + timedelta(days=1),
                    cosigned_name=s.supervising_physician.printed_name,
                )
            self._outcomes(first, count, year_sessions)
            self._audit(sessions)

    def _outcomes(self, first: int, count: int, year_sessions: int) -> None:
        from records.models import OutcomeReport

        # One report per patient per month across the year, spread over the batches.
        per_patient_reports = 12
        total = len(self.patients) * per_patient_reports
        lo, hi = total * first // year_sessions, total * (first + count) // year_sessions
        OutcomeReport.objects.bulk_create(
            [
                OutcomeReport(
                    patient=self.patients[k % len(self.patients)],
                    reported_on=(
                        self.end - timedelta(days=30 * (per_patient_reports - k // len(self.patients)))
                    ).date(),
                    headache_days=(k * 7) % 31,
                    midas_total=(k * 3) % 100 if k % 3 == 0 else None,
                    midas_completed_on=(
                        self.end - timedelta(days=30 * (per_patient_reports - k // len(self.patients)))
                    ).date()
                    if k % 3 == 0
                    else None,
                    recorded_by=self.nurses[0],
                    recorded_at=self.end,
                )
                for k in range(lo, min(hi, total))
            ]
        )

    def _audit(self, sessions) -> None:
        from records.models import AuditEvent

        seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        rows = []
        for s in sessions:
            for k in range(self.audit_per_session):
                seq += 1
                rows.append(
                    AuditEvent(
                        seq=seq,
                        occurred_at=s.scheduled_at + timedelta(seconds=30 * k),
                        actor=s.primary_nurse,
                        actor_username=s.primary_nurse.username,
                        actor_role="nurse",
                        action=("view", "create", "update", "view", "search")[k % 5],
                        patient=s.patient,
                        record_type="session",
                        record_id=str(s.pk),
                        changes={"status": ["arrived", "screening"]} if k % 5 == 2 else {},
                        ip_address="10.0.0.5",
                        user_agent="Mozilla/5.0 (bench)",
                        prev_hash="0" * 64,  # placeholders: the export copies, it does not verify
                        entry_hash="0" * 64,
                    )
                )
        AuditEvent.objects.bulk_create(rows, batch_size=2000)


# Run in the child: the export, then its own peak resident memory. VmHWM (Linux) is the
# high-water mark of this program alone; ru_maxrss would also count the parent's memory
# that the child shared between fork and exec.
CHILD = """
import json, resource, sys
import django
django.setup()
from django.core.management import call_command
call_command("export_fhir", output=sys.argv[1])
try:
    peak_kib = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
except (OSError, IndexError):
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_kib": peak_kib}), file=sys.stderr)
"""


def run_export(url: str, output: Path) -> tuple[float, float, str]:
    """(seconds, peak MiB, last line) of the export_fhir command in a fresh process."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", CHILD, str(output)],
        env={**env_for(url), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"The export failed:\n{done.stderr}")
    seconds = time.perf_counter() - started
    peak_kib = json.loads(done.stderr.strip().splitlines()[-1])["peak_kib"]
    return seconds, peak_kib / 1024, done.stdout.strip().splitlines()[-1]


def main() -> None:
    args = parse_args()
    sizes = [int(s) for s in args.sessions.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="fhir-bench-"))
    url = recreate_postgres(args.database_url) if args.database_url else f"sqlite:///{workdir / 'bench.sqlite3'}"
    setup_django(url)
    from django.db import connection

    print(f"Database: {connection.vendor}; sizes: {sizes} sessions (a clinic-year: {max(sizes)})")
    try:
        builder = Builder(args.patients, args.readings, args.audit_per_session)
        for size in sizes:
            built = builder.build_to(size, max(sizes))
            connection.close()  # the child reads a committed database
            seconds, peak, summary = run_export(url, workdir / f"export-{size}")
            files = sorted((workdir / f"export-{size}").glob("*.ndjson"))
            megabytes = sum(f.stat().st_size for f in files) / 2**20
            print(
                f"{size:>6} sessions (built in {built:5.1f} s): export {seconds:6.1f} s, "
                f"peak memory {peak:6.1f} MiB, {megabytes:7.1f} MiB of NDJSON -- {summary}"
            )
    finally:
        if not args.keep:
            if args.database_url:
                connection.close()
                recreate_postgres(args.database_url, drop_only=True)
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"Kept: {workdir}" + (f" and database {BENCH_DB}" if args.database_url else ""))


if __name__ == "__main__":
    main()
