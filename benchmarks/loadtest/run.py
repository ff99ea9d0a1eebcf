"""The load test: nurses charting and physicians reviewing at once, against gunicorn on PostgreSQL.

Run on purpose (`make loadtest`; pytest does not collect it and `make test` does not run it):

    .venv/bin/python benchmarks/loadtest/run.py run [--seconds 60] [--nurses 50] [--physicians 5]

It needs locust (requirements-load.txt) and the openssl command. In order, it:

- builds a fresh PostgreSQL database (`loadtest` on --admin-url's server): migrate, the demo data and
  --clinic-years of `seed_scale` history for the physicians to read, then, through the actions, one
  account per simulated person with its authenticator app set up, and for each nurse a patient whose
  IV session is in progress on a chair of its own;
- serves it as production does: gunicorn (--workers, sync), DEBUG off, a random SECRET_KEY,
  ALLOWED_HOSTS 127.0.0.1, whitenoise after collectstatic, the secure cookies and every other security
  setting at its default. Over TLS with a self-signed certificate made for the run, because the
  cookies are sent over HTTPS only; bound to 127.0.0.1 on a free port;
- runs locust headless for --seconds (benchmarks/loadtest/locustfile.py: each person signs in with
  password and authenticator code, nurses open the board and their session and chart readings through
  the page's htmx form, physicians open the worklist, histories and session pages), then stops the
  server;
- prints the median and p95 of each request type, the requests per second and the errors, with the
  load average, and checks: no request failed and the server logged no error; every reading answered
  as saved is in the database exactly once, no other reading was added, and each has its audit event;
  `manage.py verify_audit` says the chain is intact.

Exit status 0 only if every check holds. The database is dropped afterwards (`--keep` keeps it); the
run's files (locust's CSV, the server's log, the accounts) stay in var/loadtest/.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

from benchmarks.scale import child_env, database_url, drop, load, manage, part, recreate  # noqa: E402

# The request types locustfile.py names, in the order they are printed.
REQUEST_ORDER = [
    "GET /login/",
    "POST /login/ (password)",
    "GET /login/code/",
    "POST /login/code/",
    "GET / (home, after sign-in)",
    "GET /sessions/today/ (board)",
    "GET /sessions/today/ (htmx refresh)",
    "GET /sessions/[id]/ (nurse)",
    "POST /sessions/[id]/vitals/ (htmx)",
    "GET /sessions/[id]/vitals/charts/ (htmx)",
    "GET /worklist/",
    "GET /patients/[id]/history/",
    "GET /sessions/[id]/ (physician)",
]


# Inside the database's own process (run.py seed / run.py check) --------------------------------


def setup_django(url: str) -> None:
    os.environ.update(child_env(url))
    os.environ["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    import django

    django.setup()


def seed(args) -> None:
    """The people, their authenticator apps and the nurses' sessions in progress, all through the actions."""
    from django.db.models import Count, Max
    from django.utils import timezone
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from records.actions import medications as med
    from records.actions.accounts import account_create
    from records.actions.context import Actor
    from records.actions.mfa import enrolment_device, mfa_enrol_confirm, mfa_enrol_new_key
    from records.actions.patients import patient_create
    from records.actions.screening import screening_record
    from records.actions.sessions import session_arrive, session_begin_screening, session_schedule
    from records.management.demo.course import IV_ORDER, NEGATIVE
    from records.models import Patient, Session, SessionStatus, VitalsReading
    from records.permissions import Role

    system = Actor.system("load test")

    def person(role: Role, username: str, last_name: str) -> dict:
        password = secrets.token_urlsafe(18)
        user = account_create(
            actor=system, username=username, first_name="Load", last_name=last_name, role=role, password=password
        )
        # Set up as at a first sign-in: the key, then a code from the app confirms it.
        key = mfa_enrol_new_key(actor=system, account=user)
        device = enrolment_device(user, key)
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        mfa_enrol_confirm(actor=system, account=user, key=key, token=f"{code:0{device.digits}d}")
        return {"user": user, "username": username, "password": password, "totp_key": key}

    physicians = [
        person(Role.PHYSICIAN, f"loadphys{n:02d}", f"Physician {n:02d}") for n in range(1, args.physicians + 1)
    ]
    nurses = [person(Role.NURSE, f"loadnurse{n:02d}", f"Nurse {n:02d}") for n in range(1, args.nurses + 1)]
    for n, nurse in enumerate(nurses, start=1):
        physician = physicians[(n - 1) % len(physicians)]["user"]
        actor = Actor.for_user(nurse["user"], ip_address="127.0.0.1")
        patient = patient_create(
            actor=system,
            mrn=f"LOAD-{n:03d}",
            family_name=f"Loadtest{n:03d}",
            given_name="Pat",
            date_of_birth=timezone.localdate().replace(year=1960 + n % 40, day=1),
            sex="female" if n % 2 else "male",
            allergies="No known allergies",
        )
        session = session_schedule(
            actor=actor,
            patient=patient,
            planned_route="iv_infusion",
            scheduled_at=timezone.now(),
            chair=f"Load chair {n:02d}",
            primary_nurse=nurse["user"],
            supervising_physician=physician,
        )
        session_arrive(actor=actor, session=session)
        session_begin_screening(actor=actor, session=session)
        screening_record(
            actor=actor,
            session=session,
            systolic=128,
            diastolic=82,
            **{**NEGATIVE, "pregnancy_note": "Not of child-bearing potential"},
        )
        order = med.order_document(
            actor=actor,
            session=session,
            received_as="written",
            ordering_physician=physician,
            received_at=timezone.now(),
            **IV_ORDER,
        )
        med.administration_start(actor=actor, order=order, site="L forearm, 22G cannula", lot_number=f"LOAD-{n:03d}")
        nurse.update(session=session.pk, patient=patient.pk)

    sessions = [nurse["session"] for nurse in nurses]
    in_progress = Session.objects.filter(pk__in=sessions, status=SessionStatus.IN_PROGRESS).count()
    if in_progress != len(sessions):
        raise SystemExit(f"Only {in_progress} of {len(sessions)} load-test sessions are in progress.")
    # What the physicians read besides the sessions in progress: the longest histories and recent signed sessions.
    longest = Patient.objects.annotate(n=Count("sessions")).filter(n__gt=1).order_by("-n", "pk")[:10]
    signed = Session.objects.filter(status__in=["signed", "cosigned"]).order_by("-pk")[:20]
    devices = TOTPDevice.objects.filter(user__username__startswith="load", confirmed=True)
    accounts = {
        "nurses": [{k: v for k, v in nurse.items() if k != "user"} for nurse in nurses],
        "physicians": [{k: v for k, v in physician.items() if k != "user"} for physician in physicians],
        "review_patients": [nurse["patient"] for nurse in nurses] + [p.pk for p in longest],
        "review_sessions": sessions + [s.pk for s in signed],
        # Every reading after this one is the load test's.
        "last_reading_before": VitalsReading.objects.aggregate(last=Max("pk"))["last"] or 0,
        # The time step of the last code the apps gave at set-up: each code is accepted once.
        "last_code_step": max(device.last_t for device in devices),
        "code_step_seconds": max(device.step for device in devices),
    }
    for account in accounts["nurses"] + accounts["physicians"]:
        device = devices.get(user__username=account["username"])
        account.update(totp_step=device.step, totp_digits=device.digits)
    Path(args.accounts_file).write_text(json.dumps(accounts, indent=1))
    print("RESULT " + json.dumps({"nurses": len(nurses), "physicians": len(physicians)}), flush=True)


def check(args) -> None:
    """Each reading answered as saved, in the database once, with its audit event; nothing else added."""
    from records.models import AuditEvent, VitalsReading

    accounts = json.loads(Path(args.accounts_file).read_text())
    answered: dict[int, Counter] = defaultdict(Counter)
    readings_file = Path(args.readings_file)
    lines = readings_file.read_text().splitlines() if readings_file.exists() else []
    for line in lines:
        row = json.loads(line)
        answered[row["session"]][row["note"]] += 1
    sessions = [nurse["session"] for nurse in accounts["nurses"]]
    new = VitalsReading.objects.filter(pk__gt=accounts["last_reading_before"])
    problems = []
    elsewhere = new.exclude(session_id__in=sessions).count()
    if elsewhere:
        problems.append(f"{elsewhere} new reading(s) in sessions the load test did not chart")
    stored: dict[int, Counter] = defaultdict(Counter)
    ids = []
    for pk, session, note in new.filter(session_id__in=sessions).values_list("pk", "session_id", "note"):
        stored[session][note] += 1
        ids.append(str(pk))
    for session in sessions:
        missing = answered[session] - stored[session]
        extra = stored[session] - answered[session]
        if missing:
            problems.append(f"session {session}: answered as saved but not in the database: {sorted(missing)}")
        if extra:
            problems.append(f"session {session}: in the database but not answered as saved: {sorted(extra)}")
    audited = Counter(
        AuditEvent.objects.filter(action="create", record_type="vitalsreading", record_id__in=ids).values_list(
            "record_id", flat=True
        )
    )
    unaudited = [pk for pk in ids if audited[pk] != 1]
    if unaudited:
        problems.append(f"{len(unaudited)} new reading(s) without exactly one audit event: {unaudited[:10]}")
    result = {
        "answered": sum(sum(c.values()) for c in answered.values()),
        "stored": len(ids),
        "audited": sum(1 for pk in ids if audited[pk] == 1),
        "nurses_charting": sum(1 for session in sessions if answered[session]),
        "events": AuditEvent.objects.count(),
        "problems": problems,
    }
    print("RESULT " + json.dumps(result), flush=True)


def child(name: str, url: str, *args: str) -> dict:
    return part(url, name, *args, script=__file__)


# The server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, for this run only."""
    cert, key = folder / "server.crt", folder / "server.key"
    command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1"
    subprocess.run(  # noqa: S603 (openssl from PATH)
        [*command.split(), "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_env(url: str) -> dict[str, str]:
    """Production settings: no DEBUG, no demo mode; only the host and the key are given."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DEMO_MODE", "DATABASE_POOL")}
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="clinic.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    return env


def start_server(url: str, host: str, workers: int, cert: Path, key: Path, log: Path) -> subprocess.Popen:
    command = [
        str(Path(PYTHON).parent / "gunicorn"),
        "clinic.wsgi",
        "--bind", host.removeprefix("https://"),
        "--workers", str(workers),
        "--certfile", str(cert),
        "--keyfile", str(key),
        # Nothing here needs gunicorn's control socket, whose one default path other servers may hold.
        "--no-control-socket",
    ]  # fmt: skip
    with open(log, "w") as out:
        server = subprocess.Popen(  # noqa: S603
            command, env=server_env(url), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    context = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start-up:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{host}/login/", context=context, timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    stop(server)
    raise SystemExit(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop a process we started and everything it started (its own process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def server_times(log: Path) -> list[tuple[str, int, float, float, float]]:
    """Per method and path (ids as [id]), from the request log: count, median and p95 ms, median queries.

    The server's own time, from the first middleware to the answer: what locust measures, less the
    wait for a free worker and the network.
    """
    times: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, list[int]] = defaultdict(list)
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        path = "/".join("[id]" if part.isdigit() else part for part in entry["path"].split("/"))
        key = f"{entry['method']} {path}"
        times[key].append(entry["duration_ms"])
        queries[key].append(entry.get("sql_queries", 0))
    rows = []
    for key, values in sorted(times.items()):
        values.sort()
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        rows.append((key, len(values), statistics.median(values), p95, statistics.median(queries[key])))
    return rows


def server_errors(log: Path) -> list[str]:
    """Answers of 500 and over in the request log, tracebacks and gunicorn's own errors."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if int(entry.get("status", 0)) >= 500:
                found.append(f"HTTP {entry['status']} {entry.get('method')} {entry.get('path')}")
        elif "Traceback" in line or "[ERROR]" in line or "[CRITICAL]" in line:
            found.append(line.strip())
    return found


# The run --------------------------------------------------------------------------------------------


def run_locust(args, host: str, folder: Path, cert: Path) -> int:
    """Locust headless for args.seconds; users finish the request they are in before stopping."""
    stop_timeout = 30
    command = [
        PYTHON, "-m", "locust",
        "-f", str(HERE / "locustfile.py"),
        "--headless", "--only-summary",
        "--host", host,
        "--users", str(args.nurses + args.physicians),
        "--spawn-rate", str(args.spawn_rate),
        "--run-time", f"{args.seconds}s",
        "--stop-timeout", str(stop_timeout),
        "--csv", str(folder / "locust"),
        "--loglevel", "WARNING",
        "--accounts-file", str(folder / "accounts.json"),
        "--readings-file", str(folder / "readings.jsonl"),
        "--ca-file", str(cert),
        "--summary-file", str(folder / "summary.json"),
        "--pace", str(args.pace),
    ]  # fmt: skip
    with open(folder / "locust.log", "w") as out:
        locust = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return locust.wait(timeout=args.seconds + stop_timeout + 120)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"locust ran past its time; see {folder / 'locust.log'}") from None
        finally:
            stop(locust)


def read_summary(folder: Path, locust_status: int) -> dict:
    """locustfile.py's figures, written once every user had stopped."""
    path = folder / "summary.json"
    if not path.exists():
        log = (folder / "locust.log").read_text(errors="replace")
        raise SystemExit(f"locust wrote no figures (exit status {locust_status}):\n{log[-3000:]}")
    summary = json.loads(path.read_text())
    order = {name: n for n, name in enumerate(REQUEST_ORDER)}
    summary["requests"].sort(key=lambda row: order.get(row["name"], len(order)))
    return summary


def print_figures(summary: dict) -> None:
    print(
        f"  {'request type':<42} {'count':>6} {'failed':>6} {'median ms':>9} {'p95 ms':>7} {'max ms':>7} {'per s':>6}"
    )
    for row in [*summary["requests"], {**summary["total"], "name": "all requests"}]:
        print(
            f"  {row['name']:<42} {row['requests']:>6} {row['failures']:>6} {row['median_ms']:>9.0f} "
            f"{row['p95_ms']:>7.0f} {row['max_ms']:>7.0f} {row['per_second']:>6.1f}"
        )


def verdict(ok: bool) -> str:
    return "ok" if ok else "FAILED"


def run(args) -> int:
    folder = ROOT / "var" / "loadtest"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    url = database_url(args.admin_url, args.database)
    recreate(args.admin_url, args.database)
    try:
        build(args, url, folder)
        summary, status, host, loads = serve_and_load(args, url, folder)
        return check_afterwards(args, url, folder, summary, status, host, loads)
    finally:
        if args.keep:
            print(f"Kept the database {args.database} ({url}).")
        else:
            drop(args.admin_url, args.database)


def build(args, url: str, folder: Path) -> None:
    steps = [
        ("migrate", ["migrate", "--no-input", "-v0"]),
        ("createcachetable", ["createcachetable"]),
        ("seed_demo", ["seed_demo"]),
        *([("seed_scale", ["seed_scale", "--clinic-years", str(args.clinic_years)])] if args.clinic_years > 0 else []),
    ]
    print(f"Building the database {args.database} on {args.admin_url.rsplit('/', 1)[0]} ...", flush=True)
    for label, command in steps:
        started = time.perf_counter()
        manage(url, *command)
        print(f"  {label}: {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    people = ["--nurses", str(args.nurses), "--physicians", str(args.physicians)]
    child("seed", url, *people, "--accounts-file", str(folder / "accounts.json"))
    print(f"  accounts, authenticator apps and sessions in progress: {time.perf_counter() - started:.0f} s")
    manage(url, "shell", "-c", "from django.db import connection; connection.cursor().execute('ANALYZE')")
    manage(url, "collectstatic", "--no-input", "-v0")


def serve_and_load(args, url: str, folder: Path) -> tuple[dict, int, str, tuple[str, str]]:
    """Serve the database with gunicorn, run locust against it, stop both; locust's figures."""
    cert, key = make_certificate(folder)
    host = f"https://127.0.0.1:{free_port()}"
    server = start_server(url, host, args.workers, cert, key, folder / "server.log")
    try:
        # Each authenticator code is accepted once: wait for the apps to show codes newer than the set-up's.
        accounts = json.loads((folder / "accounts.json").read_text())
        while int(time.time()) // accounts["code_step_seconds"] <= accounts["last_code_step"]:
            time.sleep(1)
        load_before = load()
        print(f"Running locust for {args.seconds} s against {host} ...", flush=True)
        status = run_locust(args, host, folder, cert)
        load_after = load()
    finally:
        stop(server)
    return read_summary(folder, status), status, host, (load_before, load_after)


def check_afterwards(
    args, url: str, folder: Path, summary: dict, status: int, host: str, loads: tuple[str, str]
) -> int:
    """Print the figures, then check the answers, the server's log, the readings and the audit chain."""
    print(
        f"\n{args.nurses} nurses charting, {args.physicians} physicians reviewing for {args.seconds} s (signing in "
        f"{args.spawn_rate}/s, {args.pace:g} s between a person's requests on average); gunicorn, {args.workers} "
        f"sync workers, over TLS on {host}; PostgreSQL; {os.cpu_count()} cores"
    )
    print(f"Load average before: {loads[0]}; at the end of the run: {loads[1]}\n")
    print_figures(summary)
    print(f"\n  {'server time, from the request log':<42} {'count':>6} {'median ms':>16} {'p95 ms':>7} {'queries':>8}")
    for key, count, median, p95, queries in server_times(folder / "server.log"):
        print(f"  {key:<42} {count:>6} {median:>16.0f} {p95:>7.0f} {queries:>8.0f}")
    failed = summary["total"]["failures"]
    for failure in summary["failures"] + summary["exceptions"]:
        print(f"    {failure}")
    errors = server_errors(folder / "server.log")
    for error in errors[:20]:
        print(f"    server: {error}")
    files = ["--accounts-file", str(folder / "accounts.json"), "--readings-file", str(folder / "readings.jsonl")]
    readings = child("check", url, *files)
    for problem in readings["problems"]:
        print(f"    {problem}")
    verified = subprocess.run(  # noqa: S603 (our own manage.py)
        [PYTHON, str(ROOT / "manage.py"), "verify_audit"], env=child_env(url), capture_output=True, text=True
    )
    intact = verified.returncode == 0 and "Audit chain intact." in verified.stdout
    if not intact:
        print(verified.stdout[-2000:] + verified.stderr[-2000:])

    checks = [
        (f"no request failed ({failed} of {summary['total']['requests']})", failed == 0 and status == 0),
        (f"no error in the server's log ({len(errors)})", not errors),
        (
            f"every reading accounted for: {readings['answered']} answered as saved by "
            f"{readings['nurses_charting']} nurses, {readings['stored']} new in the database, "
            f"{readings['audited']} with their audit event",
            not readings["problems"] and readings["answered"] == readings["stored"] == readings["audited"] > 0,
        ),
        (f"verify_audit: {'intact' if intact else 'NOT intact'}, {readings['events']:,} events", intact),
    ]
    print("\nChecks")
    for label, ok in checks:
        print(f"  {verdict(ok):<6} {label}")
    print(f"\nFiles of this run: {folder.relative_to(ROOT)}/")
    return 0 if all(ok for _, ok in checks) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    runner = sub.add_parser("run", help="build the database, serve it, load it, check it, drop it")
    runner.add_argument("--seconds", type=int, default=60, help="how long locust runs (default 60)")
    runner.add_argument("--nurses", type=int, default=50)
    runner.add_argument("--physicians", type=int, default=5)
    runner.add_argument("--spawn-rate", type=float, default=2, help="people signing in per second (default 2)")
    runner.add_argument(
        "--pace",
        type=float,
        default=10,
        help="mean seconds between one person's requests (default 10: each nurse charts a reading about every 20 s; "
        "at the chair it is every 15 to 30 minutes)",
    )
    runner.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
    runner.add_argument("--clinic-years", type=float, default=0.02, help="seed_scale history to read (0: none)")
    runner.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    runner.add_argument("--database", default="loadtest", help="the database built, and dropped afterwards")
    runner.add_argument("--keep", action="store_true", help="keep the database afterwards")
    seeder = sub.add_parser("seed")
    seeder.add_argument("--url", required=True)
    seeder.add_argument("--nurses", type=int, required=True)
    seeder.add_argument("--physicians", type=int, required=True)
    seeder.add_argument("--accounts-file", required=True)
    checker = sub.add_parser("check")
    checker.add_argument("--url", required=True)
    checker.add_argument("--accounts-file", required=True)
    checker.add_argument("--readings-file", required=True)
    args = parser.parse_args()
    if args.command == "run":
        sys.exit(run(args))
    setup_django(args.url)
    if args.command == "seed":
        seed(args)
    else:
        check(args)


if __name__ == "__main__":
    main()
