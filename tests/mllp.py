"""The monitor listener as its own process on the test database, for tests and the browser test."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shared_database_url() -> str:
    """DATABASE_URL of the test database this process is using (a file on SQLite)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        if "mode=memory" in name or name == ":memory:":
            raise RuntimeError("The listener needs the SQLite test database in a file: mark the test separate_process.")
        return f"sqlite:///{Path(name).resolve()}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Listener:
    host: str
    port: int
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None


def start_listener(*args: str, log: Path) -> Listener:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": shared_database_url(), "DEBUG": "0", "LOG_LEVEL": "INFO"}
    env.pop("TEST_DATABASE_NAME", None)
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), "monitor_listener", "--port", str(port), *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    listener = Listener("127.0.0.1", port, process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not listener.alive():
            raise RuntimeError(f"The listener exited:\n{listener.output()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return listener
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"The listener did not start within 30 s:\n{listener.output()}")


def stop_listener(listener: Listener) -> None:
    listener.process.terminate()
    try:
        listener.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        listener.process.kill()
        listener.process.wait()


@pytest.fixture(scope="module")
def listener(django_db_setup, django_db_blocker, tmp_path_factory):
    """`python manage.py monitor_listener` on a free port, pointed at the test database (module-wide)."""
    log = tmp_path_factory.mktemp("listener") / "listener.log"
    running = start_listener("--frame-timeout", "2", "--idle-timeout", "30", log=log)
    yield running
    stop_listener(running)
