"""Throwaway PostgreSQL servers on loopback, from the installed server binaries (tests only).

For the replica tests: a primary with replication allowed, and a streaming standby made
from it with `pg_basebackup -R`. The primary is the test's own, not the server the
suite runs on, whose pg_hba.conf may not allow replication connections.
"""

import glob
import os
import shutil
import socket
import subprocess
import time
from contextlib import closing
from pathlib import Path

import psycopg


def server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    return Path(found[-1]) if found else None


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_postgres() -> list[str]:
    """initdb and the server refuse to run as root: run them as the postgres account then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class Cluster:
    def __init__(self, bin_dir: Path, data: Path, port: int, socket_dir: Path) -> None:
        self.bin, self.data, self.port, self.socket_dir = bin_dir, data, port, socket_dir

    def run(self, tool: str, *args: str) -> None:
        subprocess.run([*as_postgres(), str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.data.parent / f"{self.data.name}.log"),
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir}",
            "-w",
            "start",
        )

    def stop(self) -> None:
        subprocess.run(
            [*as_postgres(), str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=120,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=5)


def make_primary(bin_dir: Path, base: Path) -> Cluster:
    """A new cluster that accepts replication from 127.0.0.1 (initdb's trust set-up allows it)."""
    primary = Cluster(bin_dir, base / "primary", free_port(), base)
    primary.run("initdb", "-D", str(primary.data), "--auth=trust", "--username=postgres", "-E", "UTF8")
    with open(primary.data / "postgresql.conf", "a") as conf:
        conf.write("wal_level = replica\nmax_wal_senders = 4\nfsync = off\n")
    primary.start()
    return primary


def make_standby(primary: Cluster, base: Path) -> Cluster:
    standby = Cluster(primary.bin, base / "standby", free_port(), base)
    # -c fast: checkpoint at once (the default spreads it over minutes after a bulk load).
    primary.run(
        "pg_basebackup", "-R", "-D", str(standby.data), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
        "-X", "stream", "-c", "fast",
    )  # fmt: skip
    standby.start()
    return standby


def wait_for_replay(primary: psycopg.Connection, standby: psycopg.Connection, timeout: float = 60) -> None:
    """Until the standby has replayed everything the primary has written so far (not a fixed sleep)."""
    # A WAL record of its own marks "so far" (its end, which the standby replays once it has everything
    # before it). The insert position alone can sit just past a new page's header with no record to
    # replay up to it: the standby then waited for the server's next write (12 s after the restore).
    lsn = primary.execute("SELECT pg_logical_emit_message(false, 'replay-check', '')").fetchone()[0]  # type: ignore[index]
    deadline = time.monotonic() + timeout
    while True:
        if standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[0]:  # type: ignore[index]
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the standby did not replay {lsn} within {timeout} s")
        time.sleep(0.02)


def prepare_base(base: Path) -> None:
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
