"""The monitor listener end to end: messages per second, and the time from a monitor's send to the page.

Run on purpose (pytest does not collect it):

    .venv/bin/python benchmarks/monitor_listener.py [--messages 200] [--senders 1,20]
        [--database-url postgres://postgres@127.0.0.1:5432/clinic_bench_mllp]

Without --database-url it uses a scratch SQLite file (var/bench_monitor.sqlite3). A
PostgreSQL database named in --database-url is dropped and created afresh (the
server's `postgres` database must be reachable with the same credentials).

It migrates, schedules and checks in one patient per chair and registers one
monitor per chair through the real actions, then starts `manage.py monitor_listener`
as its own process. Each sender is python-hl7's MLLP client on its own connection,
sending PCD-01 ORU^R01 messages one after another and waiting for each ACK, as a
monitor does: "end to end" is parsed, stored (with its audit event) and
acknowledged. Then, for the send-to-visible time, one message at a time is sent
while the session page's polling URL is read every 20 ms through Django's test
client until the reading is in it; the page itself polls every 2 s, which adds
up to 2 s (1 s on average) on top.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAGE_POLL_SECONDS = 2


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="messages per sender (default 200)")
    parser.add_argument("--senders", default="1,20", help="concurrent senders to measure, comma-separated")
    parser.add_argument("--visible", type=int, default=20, help="send-to-visible samples (default 20)")
    parser.add_argument("--database-url", default="")
    return parser.parse_args()


def prepare_database(url: str) -> str:
    if not url:
        path = ROOT / "var" / "bench_monitor.sqlite3"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base.replace("postgres://", "postgresql://", 1) + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def setup_django(database_url: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="1",
        DEMO_MODE="1",  # the demo nurse account signs in without an authenticator code
        ALLOWED_HOSTS="testserver,127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_clinic(chairs: int):
    """One checked-in patient per chair and one monitor per chair, through the actions."""
    from datetime import date

    from django.utils import timezone

    from records.actions.accounts import account_create
    from records.actions.context import Actor
    from records.actions.devices import monitor_register
    from records.actions.patients import patient_create
    from records.actions.sessions import session_arrive, session_schedule
    from records.permissions import Role

    system = Actor.system("benchmark")
    nurse = account_create(
        actor=system,
        username="nurse",
        first_name="Bench",
        last_name="Nurse",
        role=Role.NURSE,
        password="Bench-pass-1",  # noqa: S106 (a scratch database)
    )
    sessions = []
    for n in range(1, chairs + 1):
        patient = patient_create(
            actor=system,
            mrn=f"BENCH{n:04d}",
            family_name=f"Bench{n}",
            given_name="Pat",
            date_of_birth=date(1980, 1, 1),
            sex="female",
            allergies="None known",
        )
        session = session_schedule(
            actor=system, patient=patient, planned_route="iv_infusion", scheduled_at=timezone.now(), chair=f"Chair {n}"
        )
        session_arrive(actor=system, session=session, arrived_at=timezone.now() - timedelta(hours=1))
        monitor_register(actor=system, device_id=f"BENCH{n:011d}", chair=f"Chair {n}")
        sessions.append(session)
    return nurse, sessions


def start_listener(database_url: str):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, str(ROOT / "manage.py"), "monitor_listener", "--port", str(port), "-v", "0"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("The listener did not start.")


def measure_throughput(port: int, senders: int, messages: int, start_at) -> tuple[float, list[float], int]:
    from hl7.client import MLLPClient

    from records.devices.messages import ack_code, send, vitals_message

    latencies: list[float] = []
    failures: list[str] = []
    barrier = threading.Barrier(senders + 1)

    def sender(n: int) -> None:
        device = f"BENCH{n + 1:011d}"
        own: list[float] = []
        with MLLPClient("127.0.0.1", port) as client:
            barrier.wait()
            for k in range(messages):
                values = {"systolic": 120 + k % 40, "diastolic": 80, "heart_rate": 70 + k % 30, "spo2": 97}
                message = vitals_message(values, device_id=device, at=start_at + timedelta(seconds=k))
                sent = time.perf_counter()
                code, text = ack_code(send(client, message))
                own.append(time.perf_counter() - sent)
                if code != "AA":
                    failures.append(f"{code} {text}")
        latencies.extend(own)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return senders * messages / elapsed, latencies, len(failures)


def measure_visible(port: int, nurse, session, samples: int) -> list[float]:
    """Seconds from sending a message to the reading being in the session page's polled section."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone
    from hl7.client import MLLPClient

    from records.devices.messages import ack_code, send, vitals_message

    client = Client()
    client.force_login(nurse)
    url = reverse("session_device_readings", args=[session.pk])
    index = int(session.chair.split()[-1])
    results = []
    for k in range(samples):
        systolic = 150 + k
        message = vitals_message(
            {"systolic": systolic, "diastolic": 71, "heart_rate": 66},
            device_id=f"BENCH{index:011d}",
            at=timezone.now().replace(microsecond=0) + timedelta(milliseconds=k),
        )
        sent = time.perf_counter()
        with MLLPClient("127.0.0.1", port) as mllp:
            assert ack_code(send(mllp, message))[0] == "AA"
        while f"{systolic}/71" not in client.get(url, headers={"HX-Request": "true"}).content.decode():
            time.sleep(0.02)
        results.append(time.perf_counter() - sent)
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    args = parse_args()
    counts = [int(n) for n in args.senders.split(",")]
    database_url = prepare_database(args.database_url)
    setup_django(database_url)
    from django.db import connection
    from django.utils import timezone

    from records.models import DeviceReading

    nurse, sessions = build_clinic(max(counts))
    print(f"Database: {connection.vendor}; {len(sessions)} chairs with a patient and a monitor; CPUs: {os.cpu_count()}")
    process, port = start_listener(database_url)
    try:
        start_at = timezone.now().replace(microsecond=0) - timedelta(minutes=50)
        for n, senders in enumerate(counts):
            rate, latencies, failed = measure_throughput(
                port, senders, args.messages, start_at + timedelta(minutes=5 * n)
            )
            print(
                f"{senders:>3} sender(s) x {args.messages} messages: {rate:7.1f} messages/s end to end "
                f"(ACK latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
                f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms){f', {failed} not AA' if failed else ''}"
            )
        visible = measure_visible(port, nurse, sessions[0], args.visible)
        median = statistics.median(visible)
        print(
            f"Send to visible (stored, served by the page's polling URL): median {median * 1000:.0f} ms, "
            f"max {max(visible) * 1000:.0f} ms over {len(visible)} readings; with the page polling every "
            f"{PAGE_POLL_SECONDS} s: about {median + PAGE_POLL_SECONDS / 2:.1f} s on average, "
            f"{max(visible) + PAGE_POLL_SECONDS:.1f} s at worst"
        )
        print(f"Device readings stored: {DeviceReading.objects.count()}")
    finally:
        process.terminate()
        process.wait(15)
        if not args.database_url:
            (ROOT / "var" / "bench_monitor.sqlite3").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
