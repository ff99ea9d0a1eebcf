"""The audit log at a million events on PostgreSQL: report, CSV and verification timings.

Run on purpose (pytest does not collect it):

    .venv/bin/python benchmarks/audit_scale.py [--events 1000000] [--admin-url postgres://postgres@127.0.0.1:5432/postgres]

It creates a separate database (clinic_bench), migrates it, adds accounts and
patients through the real actions, then loads the events with COPY, chained with
correct hashes exactly as records.actions.audit would have written them. It prints:
the time of a report filtered by one patient and 30 days, of the unfiltered first
page, time to the CSV's first row and the process's peak memory while streaming
it all, and verify_audit's rows per second and peak memory (resident memory is
sampled as it goes: tracing allocations would slow the loops several times). The database is dropped at the end.
"""

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--patients", type=int, default=2_000)
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db", default="clinic_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def bench_url(admin_url: str, db: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + db


def recreate_database(admin_url: str, db: str) -> None:
    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


def drop_database(admin_url: str, db: str) -> None:
    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def timed(fn, repeat: int = 1):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return result, times


def setup_django(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["DEBUG"] = "0"  # no query log in memory
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, dict):
        return json.dumps(value).translate(COPY_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return value.translate(COPY_ESCAPES)


def build(events: int, patients: int):
    from datetime import date

    from django.core.management import call_command
    from django.db import connection

    from records.actions.accounts import account_create
    from records.actions.context import Actor
    from records.actions.patients import patient_create
    from records.audit.chain import HASHED_COLUMNS, event_hash
    from records.models import AuditEvent
    from records.permissions import Role

    call_command("migrate", verbosity=0)
    system = Actor.system("benchmark")
    users = [
        account_create(
            actor=system,
            username=f"{role.value}{n}",
            first_name=role.value.title(),
            last_name=f"Bench{n}",
            role=role,
            password="Bench-password-123",  # noqa: S106 (throwaway benchmark database)
        )
        for n in range(6)
        for role in (Role.NURSE, Role.PHYSICIAN, Role.ADMIN)
    ]
    clinicians = [u for u in users if not u.is_staff]
    patient_rows = [
        patient_create(
            actor=system,
            mrn=f"B{n:06d}",
            family_name=f"Family{n}",
            given_name="Bench",
            date_of_birth=date(1970 + n % 40, 1 + n % 12, 1 + n % 28),
            sex="female" if n % 2 else "male",
            allergies="No known allergies",
        )
        for n in range(patients)
    ]
    head = AuditEvent.objects.order_by("-seq").first()
    next_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() + 1
    roles = {u.pk: ("admin" if u.is_staff else u.username.rstrip("0123456789")) for u in users}

    rng = random.Random(5)
    end = datetime.now(UTC) - timedelta(minutes=5)
    start = end - timedelta(days=365)
    step = (end - start) / events
    actions = ["view"] * 60 + ["update"] * 15 + ["search"] * 10 + ["create"] * 5 + ["print"] * 3 + ["login"] * 7
    columns = [*HASHED_COLUMNS, "entry_hash"]
    prev, seq = head.entry_hash, head.seq
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        buffer = []
        with raw.copy(f"COPY {AuditEvent._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(events):
                seq += 1
                user = rng.choice(clinicians)
                action = rng.choice(actions)
                patient = rng.choice(patient_rows) if action in ("view", "update", "create", "print") else None
                changes = {"phone": [f"555-{n % 1000:04d}", f"555-{(n + 1) % 1000:04d}"]} if action == "update" else {}
                row = {
                    "id": next_id + n,
                    "seq": seq,
                    "occurred_at": start + step * n,
                    "actor_id": user.pk,
                    "actor_username": user.username,
                    "actor_role": roles[user.pk],
                    "action": action,
                    "patient_id": patient.pk if patient else None,
                    "record_type": "patient" if patient else "user",
                    "record_id": str(patient.pk if patient else user.pk),
                    "changes": changes,
                    "reason": "Printed for the referring physician" if action == "print" else "",
                    "ip_address": f"10.0.{n % 200}.{n % 250 + 1}",
                    "user_agent": "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)",
                    "prev_hash": prev,
                }
                # The same function records.actions.audit hashes with.
                row["entry_hash"] = prev = event_hash(row)
                buffer.append("\t".join(copy_text(row[c]) for c in columns))
                if len(buffer) >= 10_000:
                    copy.write("\n".join(buffer) + "\n")
                    buffer.clear()
                if (n + 1) % 200_000 == 0:
                    print(f"  {n + 1:,} events loaded ({time.perf_counter() - started:.0f} s)", flush=True)
            if buffer:
                copy.write("\n".join(buffer) + "\n")
            print(f"  rows sent in {time.perf_counter() - started:.1f} s", flush=True)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [AuditEvent._meta.db_table, next_id + events]
        )
        print(f"  COPY committed after {time.perf_counter() - started:.1f} s", flush=True)
        cursor.execute(f"ANALYZE {AuditEvent._meta.db_table}")
    print(f"Loaded {events:,} events in {time.perf_counter() - started:.1f} s")
    return users, patient_rows, end


def measure(patients, end):
    from django.db import connection
    from django.test import Client

    from records.actions.audit import audit_chain_verify
    from records.actions.context import Actor
    from records.models import AuditEvent, User
    from records.selectors import audit_events

    admin = User.objects.filter(is_staff=True).first()
    client = Client()
    client.force_login(admin)
    # A patient with events in the last 30 days (events are spread evenly over patients).
    since = end - timedelta(days=30)
    chosen = (
        AuditEvent.objects.filter(occurred_at__gte=since, patient__isnull=False)
        .values_list("patient__mrn", flat=True)
        .order_by("patient__mrn")
        .first()
    )
    date_from, date_to = since.date().isoformat(), end.date().isoformat()
    params = {"patient": chosen, "date_from": date_from, "date_to": date_to}
    print(f"\nTotal audit events: {AuditEvent.objects.count():,}")

    response, times = timed(lambda: client.get("/audit/", params), repeat=7)
    assert response.status_code == 200, response.status_code
    matched = re.search(r"([\d,]+) events?\.", response.content.decode()).group(1)
    print(
        f"Report, one patient + 30 days ({matched} events), whole page incl. count and render: "
        f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
    )
    queryset = audit_events(
        user=admin,
        patient_id=AuditEvent.objects.filter(patient__mrn=chosen).values_list("patient_id", flat=True).first(),
        date_from=since.date(),
        date_to=end.date(),
    )
    sql, sql_params = queryset[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, sql_params)
        plan = [row[0] for row in cursor.fetchall()]
    print("  EXPLAIN ANALYZE of the page query:")
    for line in plan:
        print("   ", line)

    response, times = timed(lambda: client.get("/audit/"), repeat=5)
    print(f"Report, no filter (first page, count capped at 10,000): median {statistics.median(times) * 1000:.0f} ms")
    response, times = timed(lambda: client.get("/audit/", {"sort": "user", "page": 100}), repeat=3)
    print(f"Report, no filter, sorted by user, page 100: median {statistics.median(times) * 1000:.0f} ms")

    # CSV: time to the first data row, then stream it all, sampling the process's memory.
    baseline = rss_mb()
    peak = baseline
    started = time.perf_counter()
    response = client.get("/audit/export.csv")
    chunks = iter(response.streaming_content)
    next(chunks)  # the header line
    next(chunks)  # the first event
    first_row = time.perf_counter() - started
    rows, size = 1, 0
    for chunk in chunks:
        rows += 1
        size += len(chunk)
        if rows % 20_000 == 0:
            peak = max(peak, rss_mb())
    response.close()
    total = time.perf_counter() - started
    print(
        f"CSV, all {rows:,} events: first row after {first_row * 1000:.0f} ms, whole file {total:.1f} s "
        f"({size / 1e6:.0f} MB); process memory {baseline:.0f} MB before, peak {peak:.0f} MB while streaming"
    )

    baseline = rss_mb()
    peaks = [baseline]
    run = audit_chain_verify(actor=Actor.system("benchmark"), progress=lambda checked: peaks.append(rss_mb()))
    report = run.report
    print(
        f"verify_audit: {report.checked:,} events in {report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s "
        f"({run.result}); process memory {baseline:.0f} MB before, peak {max(peaks):.0f} MB while verifying"
    )


def rss_mb() -> float:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def main():
    args = parse_args()
    url = bench_url(args.admin_url, args.db)
    print(f"Building {args.events:,} audit events in {args.db} ...", flush=True)
    recreate_database(args.admin_url, args.db)
    try:
        setup_django(url)
        _, patients, end = build(args.events, args.patients)
        measure(patients, end)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.admin_url, args.db)
            print(f"Dropped {args.db}.")


if __name__ == "__main__":
    main()
