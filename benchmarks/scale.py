"""Scale and speed, measured side by side in one run, each figure beside its goal (issue 12).

Run on purpose (`make bench`; pytest does not collect it):

    .venv/bin/python benchmarks/scale.py run [--clinic-years 0.05] [--admin-url postgres://postgres@127.0.0.1:5432/postgres]

It builds two PostgreSQL databases, `bench_demo` (the demo data) and `bench_scale` (the
demo data plus `seed_scale --clinic-years N`), then measures, each part in its own
process so one part's caches and connections do not colour the next:

- pages: every main page at demo size and at N clinic-years, median and p95 server time
  (Django's test Client in-process: the time of the whole request through every
  middleware, without a network) and the number of queries;
- the vitals POST (the session page's form, htmx answer) against a bare authenticated
  view that INSERTs one row (benchmarks/bench_urls.py), at concurrency 1, 8 and 32:
  threads, each with its own test Client and its own database connection, each nurse
  charting her own session;
- audited commits per second with 1, 4, 16 and 64 writers (threads, one connection
  each), against plain one-row commits;
- verify_audit's walk against SHA-256 alone over the same rows' content;
- the session PDF and a long patient summary PDF.

Figures depend on the machine and its load: the runner prints both (uptime). Use
`--keep` to keep the databases, `--reuse` to measure databases kept earlier.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable


# The environment of the measured processes -----------------------------------------------------


def child_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEMO_MODE": "1",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-not-secret"),
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        # One connection per thread: the pool's few connections would cap the concurrency measured.
        "DATABASE_POOL": "0",
    }


def setup_django(url: str, *, bench_urls: bool = False) -> None:
    os.environ.update(child_env(url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    if bench_urls:
        settings.ROOT_URLCONF = "benchmarks.bench_urls"
    # Count every query of a request: Django empties the query log when a request starts.
    from django.core.signals import request_started
    from django.db import reset_queries

    request_started.disconnect(reset_queries)
    # As the web server starts (clinic/wsgi.py): every view loaded, and what is loaded left out of the
    # garbage collector's work.
    from clinic.startup import settle

    settle()


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def emit(result: dict) -> None:
    print("RESULT " + json.dumps(result), flush=True)


def logged_in(username: str):
    from django.test import Client

    from records.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


# Pages -----------------------------------------------------------------------------------------


def measure_pages(repeat: int) -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from records.models import Patient, Session

    heavy = Patient.objects.annotate(n=Count("sessions")).order_by("-n", "pk").first()
    signed = (
        Session.objects.filter(status="cosigned").order_by("-pk").first() or Session.objects.order_by("-pk").first()
    )
    pages = [
        ("nurse", "session board", "/sessions/today/"),
        ("nurse", "patient list", "/patients/"),
        ("nurse", "patient detail (most sessions)", f"/patients/{heavy.pk}/"),
        ("physician", "patient history (most sessions)", f"/patients/{heavy.pk}/history/"),
        ("physician", "session page (signed)", f"/sessions/{signed.pk}/"),
        ("physician", "physician worklist", "/worklist/"),
        ("admin", "audit report", "/audit/"),
        ("admin", "audit report by user", "/audit/?sort=user"),
        ("admin", "audit report by role", "/audit/?sort=role"),
        ("admin", "audit report by patient", "/audit/?sort=patient"),
        ("admin", "audit report by details", "/audit/?sort=details"),
        ("admin", "audit report by address", "/audit/?sort=from"),
        ("admin", "audit report by user, page 100", "/audit/?sort=user&page=100"),
        ("admin", "accounts", "/accounts/"),
    ]
    clients = {name: logged_in(name) for name in ("nurse", "physician", "admin")}
    results = {"heavy_patient_sessions": heavy.n, "pages": {}}
    for who, label, url in pages:
        client = clients[who]
        response = client.get(url)  # warm up
        status = response.status_code
        times = []
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - started)
        results["pages"][label] = {
            "status": status,
            "median_ms": ms(statistics.median(times)),
            "p95_ms": ms(p95(times)),
            "queries": len(queries),
        }
    return results


# Vitals POST against a bare insert --------------------------------------------------------------


def in_progress_sessions(count: int) -> list[int]:
    """Sessions in progress, one per simulated nurse, charted through the real actions."""
    from datetime import date

    from django.utils import timezone

    from records.actions.context import Actor
    from records.actions.patients import patient_create
    from records.models import Session, User
    from tests.charting import SessionBuilder

    nurse, physician = User.objects.get(username="nurse"), User.objects.get(username="physician")
    builder = SessionBuilder(nurse, physician, lambda user: Actor.for_user(user, ip_address="127.0.0.1"))
    ids = []
    for n in range(count):
        patient = patient_create(
            actor=Actor.system("benchmark"),
            mrn=f"BENCH-V{n:03d}-{int(time.time())}",
            family_name=f"Bench{n}",
            given_name="Vitals",
            date_of_birth=date(1980, 1, 1 + n % 28),
            sex="female",
            allergies="No known allergies",
        )
        session = builder.to(patient, "in_progress", chair=f"Bench chair {n}", scheduled_at=timezone.now())
        ids.append(session.pk)
    assert Session.objects.filter(pk__in=ids, status="in_progress").count() == count
    return ids


def throughput(concurrency: int, seconds: float, make_request) -> tuple[float, float, int]:
    """(requests per second, median latency, errors) of `concurrency` threads for `seconds`."""
    from django.db import connections

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(concurrency + 1)

    def worker(n: int) -> None:
        try:
            request = make_request(n)
        except BaseException:
            start_gate.abort()  # the others would wait for this one for ever
            raise
        start_gate.wait()
        deadline = time.perf_counter() + seconds
        mine = []
        bad = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            if not request():
                bad += 1
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += bad
        connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, statistics.median(latencies) if latencies else 0.0, errors[0]


def measure_vitals(seconds: float) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from benchmarks.bench_urls import create_bare_table

    create_bare_table()
    levels = (1, 8, 32)
    sessions = in_progress_sessions(max(levels))

    def form() -> dict:
        return {
            "measured_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "phase": "during",
            "systolic": "124",
            "diastolic": "78",
            "heart_rate": "76",
            "spo2": "98",
            "respiratory_rate": "14",
        }

    def vitals_request(n: int):
        client = logged_in("nurse")
        url = f"/sessions/{sessions[n]}/vitals/"

        def post() -> bool:
            response = client.post(url, form(), headers={"HX-Request": "true"})
            return response.status_code == 200 and b"is-invalid" not in response.content

        return post

    def bare_request(n: int):
        client = logged_in("nurse")

        def post() -> bool:
            return client.post("/bench/bare-insert/", {"systolic": "124"}).status_code == 200

        return post

    one = logged_in("nurse")
    with CaptureQueriesContext(connection) as queries:
        response = one.post(f"/sessions/{sessions[0]}/vitals/", form(), headers={"HX-Request": "true"})
    assert response.status_code == 200, response.status_code
    result = {"queries_per_post": len(queries), "levels": {}}
    for level in levels:
        print(f"  concurrency {level} ...", file=sys.stderr, flush=True)
        vitals = throughput(level, seconds, vitals_request)
        bare = throughput(level, seconds, bare_request)
        result["levels"][str(level)] = {
            "vitals_per_s": round(vitals[0], 1),
            "vitals_median_ms": ms(vitals[1]),
            "vitals_errors": vitals[2],
            "bare_per_s": round(bare[0], 1),
            "bare_median_ms": ms(bare[1]),
            "bare_errors": bare[2],
            "ratio": round(vitals[0] / bare[0], 3) if bare[0] else 0,
        }
    return result


# Audited commits ---------------------------------------------------------------------------------


def measure_writers(seconds: float) -> dict:
    from django.db import connection, transaction

    from benchmarks.bench_urls import BARE_TABLE, create_bare_table
    from records.actions.context import Actor
    from records.audit.writer import audit_record

    create_bare_table()
    actor = Actor.system("benchmark writer")
    result = {}

    def audited(n: int):
        def commit() -> bool:
            with transaction.atomic():
                audit_record(actor=actor, action="view", record_type="benchmark", record_id=n)
            return True

        return commit

    def plain(n: int):
        def commit() -> bool:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {BARE_TABLE} (body) VALUES (%s)", [str(n)])  # noqa: S608
            return True

        return commit

    for writers in (1, 4, 16, 64):
        rate, median, errors = throughput(writers, seconds, audited)
        result[str(writers)] = {"audited_per_s": round(rate), "median_ms": ms(median), "errors": errors}
    rate, _, _ = throughput(16, seconds, plain)
    result["plain_16_per_s"] = round(rate)
    return result


# verify_audit against hashlib ------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def measure_verify(sample: int) -> dict:
    import hashlib

    from records.audit.chain import HASHED_COLUMNS, canonical_content, verify_chain
    from records.models import AuditEvent

    before = rss_mb()
    peaks = [before]
    report = verify_chain(progress=lambda checked: peaks.append(rss_mb()))
    assert report.intact, report.problem
    rows = AuditEvent.objects.order_by("seq").values_list(*HASHED_COLUMNS)[:sample]
    contents = [canonical_content(dict(zip(HASHED_COLUMNS, row, strict=True))) for row in rows]
    started = time.perf_counter()
    for content in contents:
        hashlib.sha256(content).hexdigest()
    hashed = len(contents) / (time.perf_counter() - started)
    return {
        "events": report.checked,
        "verify_per_s": round(report.rows_per_second),
        "hashlib_per_s": round(hashed),
        "rss_before_mb": round(before),
        "rss_peak_mb": round(max(peaks)),
    }


# PDFs -----------------------------------------------------------------------------------------------


def measure_pdf(repeat: int) -> dict:
    from django.db.models import Count

    from records.models import Patient, Session

    client = logged_in("physician")
    session = Session.objects.filter(status="cosigned").order_by("-pk").first()
    heavy = Patient.objects.annotate(n=Count("sessions")).order_by("-n", "pk").first()
    result = {}
    for label, url in (
        ("session PDF", f"/sessions/{session.pk}/record.pdf"),
        (f"patient summary PDF ({heavy.n} sessions)", f"/patients/{heavy.pk}/summary.pdf"),
    ):
        response = client.get(url)
        status = response.status_code
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - started)
        result[label] = {"status": status, "median_ms": ms(statistics.median(times)), "max_ms": ms(max(times))}
    return result


# The runner ---------------------------------------------------------------------------------------


def database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def recreate(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(url: str, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own manage.py)
        [PYTHON, str(ROOT / "manage.py"), *args], env=child_env(url), capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def part(url: str, name: str, *args: str, script: str = __file__) -> dict:
    """Run `script name --url url args` (this script by default) and return the RESULT it prints."""
    done = subprocess.run(  # noqa: S603 (a script of these benchmarks)
        [PYTHON, script, name, "--url", url, *args], capture_output=True, text=True, check=False, cwd=ROOT
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def run(args) -> None:
    demo_url = database_url(args.admin_url, "bench_demo")
    scale_url = database_url(args.admin_url, "bench_scale")
    seed_seconds = None
    if not args.reuse:
        print(f"Building bench_demo and bench_scale ({args.clinic_years:g} clinic-years) ...", flush=True)
        for name, url in (("bench_demo", demo_url), ("bench_scale", scale_url)):
            recreate(args.admin_url, name)
            manage(url, "migrate", "--no-input", "-v0")
            manage(url, "seed_demo")
        started = time.perf_counter()
        seeded = manage(scale_url, "seed_scale", "--clinic-years", str(args.clinic_years))
        seed_seconds = time.perf_counter() - started
        print("  " + seeded.strip().splitlines()[-1], flush=True)
        manage(scale_url, "shell", "-c", "from django.db import connection; connection.cursor().execute('ANALYZE')")
    try:
        report(args, demo_url, scale_url, seed_seconds)
    finally:
        if not args.keep and not args.reuse:
            drop(args.admin_url, "bench_demo")
            drop(args.admin_url, "bench_scale")


def report(args, demo_url: str, scale_url: str, seed_seconds: float | None) -> None:
    years = f"{args.clinic_years:g} clinic-years"
    print(f"\nMachine: {os.cpu_count()} cores; load average before: {load()}")
    if seed_seconds is not None:
        print(f"seed_scale --clinic-years {args.clinic_years:g}: {seed_seconds:.0f} s")

    demo = part(demo_url, "pages", "--repeat", str(args.repeat))
    scaled = part(scale_url, "pages", "--repeat", str(args.repeat))
    print(f"\nPages: server time (median / p95 ms) and queries, demo vs {years} (load {load()})")
    print(f"  {'page':<36} {'demo':>22} {years:>22}   goal p95 <= 100 ms, same queries")
    for label, here in scaled["pages"].items():
        there = demo["pages"].get(label, {})
        ok = here["p95_ms"] <= 100 and here["queries"] == there.get("queries")
        print(
            f"  {label:<36} {there.get('median_ms', 0):>7} / {there.get('p95_ms', 0):>6} q{there.get('queries', 0):<4}"
            f" {here['median_ms']:>7} / {here['p95_ms']:>6} q{here['queries']:<4}  {verdict(ok)}"
            + ("" if here["status"] == 200 else f" (HTTP {here['status']})")
        )

    vitals = part(scale_url, "vitals", "--seconds", str(args.seconds))
    print(
        f"\nVitals POST vs a bare authenticated INSERT view, threads with the test Client (load {load()}); "
        f"{vitals['queries_per_post']} queries per POST"
    )
    for level, row in vitals["levels"].items():
        print(
            f"  concurrency {level:>2}: vitals {row['vitals_per_s']:>6}/s ({row['vitals_median_ms']} ms), "
            f"bare {row['bare_per_s']:>6}/s ({row['bare_median_ms']} ms): ratio {row['ratio']:.3f}   goal >= 0.5 "
            f"{verdict(row['ratio'] >= 0.5)}" + (f" ERRORS {row['vitals_errors']}" if row["vitals_errors"] else "")
        )

    writers = part(scale_url, "writers", "--seconds", str(args.seconds))
    print(f"\nAudited commits per second vs writers (PostgreSQL, threads; load {load()})")
    for level in ("1", "4", "16", "64"):
        row = writers[level]
        goal = f"   goal >= 2,000/s {verdict(row['audited_per_s'] >= 2000)}" if level == "16" else ""
        print(f"  {level:>2} writers: {row['audited_per_s']:>6}/s ({row['median_ms']} ms each){goal}")
    print(f"  plain one-row commits, 16 writers: {writers['plain_16_per_s']}/s")

    verify = part(scale_url, "verify")
    print(f"\nverify_audit's walk vs SHA-256 alone on the same rows (load {load()})")
    print(
        f"  {verify['events']:,} events: {verify['verify_per_s']:,}/s; hashlib alone {verify['hashlib_per_s']:,}/s "
        f"(ratio {verify['verify_per_s'] / verify['hashlib_per_s']:.3f}); memory {verify['rss_before_mb']} MB "
        f"before, peak {verify['rss_peak_mb']} MB   goal >= 200,000/s {verdict(verify['verify_per_s'] >= 200_000)}"
    )

    pdf = part(scale_url, "pdf", "--repeat", "3")
    print(f"\nPDFs at {years} (load {load()})")
    for label, row in pdf.items():
        goal = 1000 if label == "session PDF" else 2000
        print(
            f"  {label}: median {row['median_ms']} ms, max {row['max_ms']} ms   goal <= {goal} ms "
            f"{verdict(row['max_ms'] <= goal)}" + ("" if row["status"] == 200 else f" (HTTP {row['status']})")
        )
    print(f"\nLoad average after: {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    runner = sub.add_parser("run", help="build the databases and measure everything")
    runner.add_argument("--clinic-years", type=float, default=0.05)
    runner.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    runner.add_argument("--repeat", type=int, default=15, help="requests per page")
    runner.add_argument("--seconds", type=float, default=3.0, help="seconds per throughput level")
    runner.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    runner.add_argument("--reuse", action="store_true", help="measure the databases kept by an earlier --keep")
    for name in ("pages", "vitals", "writers", "verify", "pdf"):
        one = sub.add_parser(name)
        one.add_argument("--url", required=True)
        one.add_argument("--repeat", type=int, default=15)
        one.add_argument("--seconds", type=float, default=3.0)
        one.add_argument("--sample", type=int, default=200_000)
    args = parser.parse_args()
    if args.command == "run":
        run(args)
        return
    setup_django(args.url, bench_urls=args.command == "vitals")
    if args.command == "pages":
        emit(measure_pages(args.repeat))
    elif args.command == "vitals":
        emit(measure_vitals(args.seconds))
    elif args.command == "writers":
        emit(measure_writers(args.seconds))
    elif args.command == "verify":
        emit(measure_verify(args.sample))
    elif args.command == "pdf":
        emit(measure_pdf(args.repeat))


if __name__ == "__main__":
    main()
