"""The patient history page of one long course, measured (issue: 150 sessions in <= 100 ms server time).

Run on purpose; pytest does not collect it:

    .venv/bin/python benchmarks/history_page.py build [--sessions 150] [--admin-url postgres://postgres@127.0.0.1:5432/postgres]
    .venv/bin/python benchmarks/history_page.py measure [--repeat 40] [--profile 25] [--url ...]

`build` makes a PostgreSQL database `bench_history` (or `--database NAME`) with one patient
whose course has `--sessions` sessions, one a week back from yesterday, each charted
through the real actions (records.management.demo.course.chart_session, as tests.charting
uses it: screening, order, eight readings, administration, discharge, signature; most
co-signed, some held, some with a side effect or a telephone order), with a
patient-reported outcome at each. `measure` times the history page in-process
with Django's test Client (the whole request through every middleware, no network), as
benchmarks/scale.py measures pages: median and p95 server time, the number of queries, and
the CPU time of this process (steadier than the wall clock on a loaded machine), and
with `--profile N` the N costliest functions of one request by cumulative time (cProfile).
Figures depend on the machine's load: the load average is printed beside them.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scale import database_url, load, logged_in, manage, ms, p95, recreate, setup_django  # noqa: E402

NAME = "bench_history"
MRN = "BENCH-HISTORY-1"


def build(args) -> None:
    url = database_url(args.admin_url, args.database)
    recreate(args.admin_url, args.database)
    manage(url, "migrate", "--no-input", "-v0")
    setup_django(url)
    from datetime import date

    from django.utils import timezone

    from records.actions.accounts import account_create
    from records.actions.context import Actor
    from records.actions.intake import intake_record
    from records.actions.outcomes import outcome_record
    from records.actions.patients import patient_create
    from records.actions.sessions import session_cosign
    from records.management.demo.course import chart_session
    from records.permissions import Role

    setup = Actor.system("bench_history")
    nurse, physician = (
        account_create(
            actor=setup,
            username=name,
            first_name=first,
            last_name=last,
            role=role,
            password="Bench-password-123",  # noqa: S106 (throwaway benchmark database)
        )
        for name, first, last, role in (
            ("nurse", "Nina", "Reyes", Role.NURSE),
            ("physician", "Omar", "Haddad", Role.PHYSICIAN),
        )
    )
    as_nurse, as_physician = Actor.for_user(nurse), Actor.for_user(physician)
    patient = patient_create(
        actor=as_nurse,
        mrn=MRN,
        family_name="Lindqvist",
        given_name="Maja",
        date_of_birth=date(1979, 4, 2),
        sex="female",
        allergies="No known allergies",
    )
    intake_record(
        actor=as_physician,
        patient=patient,
        diagnosis="Chronic migraine without aura",
        baseline_headache_days=22,
        preventive_treatments=[{"name": "Topiramate", "why_stopped": "Word-finding difficulty"}],
    )
    today = timezone.localdate()
    started = time.perf_counter()
    for index in range(args.sessions):
        day = today - timedelta(days=1 + 7 * (args.sessions - 1 - index))
        start = datetime.combine(day, datetime.min.time().replace(hour=9), tzinfo=timezone.get_current_timezone())
        session = chart_session(
            nurse=nurse,
            physician=physician,
            patient=patient,
            start=start,
            readings=8,
            pain_before=4 + index % 5,
            pain_after=index % 4,
            systolic=124 + index % 9,
            diastolic=78 + index % 7,
            held=index % 11 == 3,
            side_effect=index % 7 == 1,
            received_as="telephone" if index % 13 == 5 else "written",
        )
        if index % 10:
            session_cosign(actor=as_physician, session=session)
        outcome_record(
            actor=as_nurse,
            patient=patient,
            session=session,
            reported_on=day,
            headache_days=max(2, 22 - index // 8),
            midas_total=40 - index // 5 if index % 4 == 0 else None,
            midas_completed_on=day if index % 4 == 0 else None,
        )
        if (index + 1) % 25 == 0:
            print(f"  {index + 1} sessions, {time.perf_counter() - started:.0f} s", flush=True)
    manage(url, "shell", "-c", "from django.db import connection; connection.cursor().execute('ANALYZE')")
    print(f"Built {args.database}: patient {patient.pk} with {args.sessions} sessions.")


def measure(args) -> None:
    setup_django(args.url)
    import logging

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from records.models import Patient

    logging.getLogger("clinic.requests").setLevel(logging.WARNING)  # a line per request would be timed too
    patient = Patient.objects.get(mrn=MRN)
    client = logged_in("physician")
    path = f"/patients/{patient.pk}/history/"
    response = client.get(path)  # warm up
    assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    times, cpu = [], []
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(path)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    sessions = patient.sessions.count()
    print(
        f"history of {sessions} sessions: median {ms(statistics.median(times))} ms, p95 {ms(p95(times))} ms, "
        f"fastest {ms(min(times))} ms, "
        f"{len(queries)} queries, {len(response.content) // 1024} kB; this process's CPU: median "
        f"{ms(statistics.median(cpu))} ms, p95 {ms(p95(cpu))} ms (load {load()})"
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        client.get(path)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.profile)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    admin = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    made = commands.add_parser("build", help="make the bench_history database")
    made.add_argument("--sessions", type=int, default=150)
    made.add_argument("--admin-url", default=admin)
    made.add_argument("--database", default=NAME, help=f"its name (default {NAME})")
    timed = commands.add_parser("measure", help="time the history page")
    timed.add_argument("--url", default=database_url(admin, NAME))
    timed.add_argument("--repeat", type=int, default=40)
    timed.add_argument("--profile", type=int, default=0, help="print the N costliest functions of one request")
    args = parser.parse_args()
    {"build": build, "measure": measure}[args.command](args)


if __name__ == "__main__":
    main()
