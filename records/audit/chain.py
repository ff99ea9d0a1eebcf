"""The audit log's hash chain: canonical content, hashing and verification.

Every audit event stores `seq` (its position, 1, 2, 3 ... without gaps),
`prev_hash` (the previous event's hash; 64 zeros for the first) and
`entry_hash` = SHA-256 of the canonical content below, which covers every
column of the event including `seq` and `prev_hash`. So:

- modifying any column of an event changes its content: its hash no longer matches;
- deleting an event leaves a gap in `seq` and a broken link in the next event;
- inserting an event needs a free position: renumbering the later events changes
  their content (their hashes no longer match) and breaks the link after it;
- reordering events changes their `seq` (content) and their links.

An attacker who rewrites the whole chain from some point on, recomputing every
hash, is caught by comparing with a head recorded earlier: each verification run
stores the head it saw (seq and hash) and the next run checks that the event at
that position still has that hash. Print the head (`verify_audit` does) into a
log kept elsewhere for an anchor outside the database.

This module only reads; records.actions.audit writes the chain.
"""

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING

from django.utils.ipv6 import clean_ipv6_address

if TYPE_CHECKING:
    from records.seals import SealReport

GENESIS_HASH = "0" * 64
CHAIN_VERSION = 1
# The columns that go into an event's hash, in the order verification reads them.
HASHED_COLUMNS = (
    "id",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "action",
    "patient_id",
    "record_type",
    "record_id",
    "changes",
    "reason",
    "ip_address",
    "user_agent",
    "prev_hash",
)


def _id(value) -> str | None:
    return None if value is None else str(value)


def utc_iso(value: datetime) -> str:
    """A fixed-width UTC timestamp with microseconds, as both databases store it."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def normalise_ip(value: str | None) -> str | None:
    # The model field stores IPv6 in its compressed form; hash what will be read back.
    if not value:
        return None
    return clean_ipv6_address(value) if ":" in value else value


def canonical_content(row: dict) -> bytes:
    """The bytes an event's hash covers: stable JSON, sorted keys, UTC times, ids as strings."""
    return canonical_values(*(row[name] for name in HASHED_COLUMNS))


# The canonical JSON is written out by hand, keys in sorted order, because verification
# computes it for every event: it is exactly json.dumps({...}, sort_keys=True,
# separators=(",", ":"), ensure_ascii=True) of the content below (tests/test_audit_chain.py
# keeps the two equal), at a fraction of the cost of building and sorting a dict per event.
_changes_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode
_text = encode_basestring_ascii


def canonical_values(
    id: object,
    seq: object,
    occurred_at: datetime,
    actor_id: object,
    actor_username: str,
    actor_role: str,
    action: str,
    patient_id: object,
    record_type: str,
    record_id: str,
    changes: object,
    reason: str,
    ip_address: str | None,
    user_agent: str,
    prev_hash: str,
) -> bytes:
    """canonical_content from the columns in HASHED_COLUMNS order.

    The content: {"v": CHAIN_VERSION, every hashed column, ids as strings, occurred_at
    as utc_iso, ip_address normalised}.
    """
    text = _text
    return (
        _CANONICAL
        % (
            text(action),
            "null" if actor_id is None else text(str(actor_id)),
            text(actor_role),
            text(actor_username),
            _changes_json(changes),
            text(str(id)),
            "null" if not ip_address else text(normalise_ip(ip_address) or ""),
            text(utc_iso(occurred_at)),
            "null" if patient_id is None else text(str(patient_id)),
            text(prev_hash),
            text(reason),
            text(record_id),
            text(record_type),
            text(str(seq)),
            text(user_agent),
            CHAIN_VERSION,
        )
    ).encode()


_CANONICAL = (
    '{"action":%s,"actor_id":%s,"actor_role":%s,"actor_username":%s,"changes":%s,"id":%s,"ip_address":%s,'
    '"occurred_at":%s,"patient_id":%s,"prev_hash":%s,"reason":%s,"record_id":%s,"record_type":%s,"seq":%s,'
    '"user_agent":%s,"v":%d}'
)


def canonical_stored(
    id: int,
    seq: int,
    occurred_at: str,
    actor_id: str | None,
    actor_username: str,
    actor_role: str,
    action: str,
    patient_id: str | None,
    record_type: str,
    record_id: str,
    changes: str | None,
    reason: str,
    ip_address: str | None,
    user_agent: str,
    prev_hash: str,
) -> bytes:
    """canonical_values from a row as `chain_rows` reads it: the same bytes, with less work per event.

    The time comes already written as utc_iso writes it, the ids as text, and the changes as the JSON
    text the database stores (None for SQL NULL); an empty object, most events' changes, is not
    decoded and encoded again. tests/test_audit_chain.py checks the two agree on every kind of value.
    """
    text = _text
    if changes is None:
        changes_json = "null"
    elif changes == "{}":
        changes_json = "{}"
    else:
        changes_json = _changes_json(json.loads(changes))
    return (
        _CANONICAL
        % (
            text(action),
            "null" if actor_id is None else f'"{actor_id}"',
            text(actor_role),
            text(actor_username),
            changes_json,
            f'"{id}"',
            "null" if not ip_address else text(normalise_ip(ip_address) or ""),
            f'"{occurred_at}"',
            "null" if patient_id is None else f'"{patient_id}"',
            text(prev_hash),
            text(reason),
            text(record_id),
            text(record_type),
            f'"{seq}"',
            text(user_agent),
            CHAIN_VERSION,
        )
    ).encode()


def event_hash(row: dict) -> str:
    return hashlib.sha256(canonical_content(row)).hexdigest()


HASH_PATTERN = re.compile(r"[0-9a-f]{64}")


def parse_expected_head(text: str) -> tuple[int, str]:
    """ "SEQ:HASH" (a head written down outside the database) as (seq, hash); ValueError with a reason."""
    seq_text, _, hash_text = text.strip().partition(":")
    hash_text = hash_text.strip().lower()
    if not seq_text.strip().isdigit() or int(seq_text) < 1:
        raise ValueError(f"{text!r}: the position before the colon must be a whole number from 1.")
    if not HASH_PATTERN.fullmatch(hash_text):
        raise ValueError(f"{text!r}: the hash after the colon must be 64 hexadecimal characters.")
    return int(seq_text), hash_text


@dataclass
class ChainReport:
    """What a walk along the chain found."""

    checked: int = 0
    seconds: float = 0.0
    head_seq: int | None = None
    head_hash: str = ""
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str = ""
    problems: list[str] = field(default_factory=list)
    # The signed sessions' seals, checked after the walk (records.seals); None: not checked.
    seals: "SealReport | None" = None
    # The positions of heads kept outside the database that the walk reached.
    found_outside: list[int] = field(default_factory=list)
    # How many processes walked the chain.
    workers: int = 1

    @property
    def intact(self) -> bool:
        return not self.problem

    @property
    def rows_per_second(self) -> float:
        return self.checked / self.seconds if self.seconds else 0.0

    def fail(self, *, seq: int | None, event_id: int | None, problem: str) -> None:
        if not self.problem:
            self.first_bad_seq, self.first_bad_id, self.problem = seq, event_id, problem
        self.problems.append(problem)


def walk_chain(
    rows: Iterator[tuple],
    *,
    anchor: tuple[int, str] | None = None,
    expected: Sequence[tuple[int, str]] = (),
    progress: Callable[[int], None] | None = None,
    progress_every: int = 50_000,
    start: tuple[int, str] = (1, GENESIS_HASH),
    final: bool = True,
) -> ChainReport:
    """Check rows (`chain_rows`: HASHED_COLUMNS in the stored form, plus entry_hash, by seq ascending).

    Stops at the first bad event: everything after it is suspect anyway, and the
    auditor needs to know where the damage starts. `anchor` is (seq, hash) of a
    head seen by an earlier verification; `expected`, heads kept outside the
    database (`verify_audit --expect SEQ:HASH`): the event at each SEQ must have
    that HASH.
    """
    report = ChainReport()
    started = time.perf_counter()
    expected_seq, expected_prev = start
    anchor_seen = anchor is None
    outside = dict(expected)
    sha256 = hashlib.sha256
    for values in rows:
        event_id, seq, stored_hash = values[0], values[1], values[15]
        report.checked += 1
        if seq != expected_seq:
            where = f"event #{event_id} at position {seq}"
            if seq > expected_seq:
                gap = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq} to {seq - 1}"
                report.fail(
                    seq=seq,
                    event_id=event_id,
                    problem=f"{where}: the event(s) at position {gap} are missing (deleted).",
                )
            else:
                report.fail(
                    seq=seq,
                    event_id=event_id,
                    problem=f"{where}: position {seq} is used twice or out of order (an event was inserted).",
                )
            break
        if sha256(canonical_stored(*values[:15])).hexdigest() != stored_hash:
            where = f"event #{event_id} at position {seq}"
            report.fail(
                seq=seq,
                event_id=event_id,
                problem=f"{where}: its content does not match its hash "
                "(the event was altered, or moved here from another position).",
            )
            break
        if values[14] != expected_prev:
            where = f"event #{event_id} at position {seq}"
            report.fail(
                seq=seq,
                event_id=event_id,
                problem=f"{where}: it does not follow the event at position {seq - 1} "
                "(an event before it was inserted, removed or replaced, or the events were reordered).",
            )
            break
        if anchor is not None and seq == anchor[0]:
            anchor_seen = True
            if stored_hash != anchor[1]:
                where = f"event #{event_id} at position {seq}"
                report.fail(
                    seq=seq,
                    event_id=event_id,
                    problem=f"{where}: its hash differs from the one an earlier verification recorded "
                    "(the chain was rewritten up to here).",
                )
                break
        if seq in outside:
            kept = outside.pop(seq)
            report.found_outside.append(seq)
            if stored_hash != kept:
                where = f"event #{event_id} at position {seq}"
                report.fail(
                    seq=seq,
                    event_id=event_id,
                    problem=f"{where}: its hash {stored_hash} is not the expected {kept} "
                    "(kept outside the database): the chain was rewritten up to here.",
                )
                break
        expected_seq, expected_prev = seq + 1, stored_hash
        report.head_seq, report.head_hash = seq, stored_hash
        if progress and report.checked % progress_every == 0:
            progress(report.checked)
    if final:
        finish_walk(report, anchor=anchor, anchor_seen=anchor_seen, outside=outside)
    report.seconds = time.perf_counter() - started
    return report


def finish_walk(
    report: ChainReport, *, anchor: tuple[int, str] | None, anchor_seen: bool, outside: dict[int, str]
) -> None:
    """After the last event: the anchor and the heads kept outside must have been reached."""
    if report.intact and anchor is not None and not anchor_seen:
        last = report.head_seq or 0
        report.fail(
            seq=last + 1,
            event_id=None,
            problem=f"The chain ends at position {last}, but an earlier verification saw it reach position "
            f"{anchor[0]}: the latest events were removed.",
        )
    if report.intact and outside:
        last = report.head_seq or 0
        missing = min(outside)
        report.fail(
            seq=last + 1,
            event_id=None,
            problem=f"The chain ends at position {last}, but a head kept outside the database names position "
            f"{missing}: the latest events were removed.",
        )


AUDIT_TABLE = "records_auditevent"  # records.models.AuditEvent's (tests/test_audit_chain.py checks it)


def chain_rows(
    chunk_size: int = 20_000, *, first: int | None = None, last: int | None = None, raw=None
) -> Iterator[tuple]:
    """Every event's hashed columns and stored hash, by position (from `first` to `last`), streamed.

    Plain tuples straight from the driver in the form `canonical_stored` reads (no model
    instances, no per-row ORM work): on PostgreSQL the database writes the time and the ids
    as the hash has them and hands over the changes and the address as text, through a
    server-side cursor in a read-only transaction, `chunk_size` rows at a time, so memory
    stays flat whatever the table's size; on SQLite through a plain cursor read in chunks (no
    transaction: it would hold the write lock for the whole walk), converted here.
    """
    table = AUDIT_TABLE
    bounds, params = [], []
    if first is not None:
        bounds.append("seq >= %s")
        params.append(first)
    if last is not None:
        bounds.append("seq <= %s")
        params.append(last)
    where = f"WHERE {' AND '.join(bounds)}" if bounds else ""
    if raw is not None:  # a worker process's own psycopg connection (PostgreSQL)
        with raw.transaction(), raw.cursor(name="audit_chain_walk") as cursor:
            yield from _postgresql_rows(cursor, f"{_POSTGRESQL_COLUMNS} FROM {table} {where}", params, chunk_size)
        return
    from django.db import connection, transaction

    if connection.vendor == "postgresql":
        with transaction.atomic():
            connection.ensure_connection()
            assert connection.connection is not None
            with connection.connection.cursor(name="audit_chain_walk") as cursor:
                yield from _postgresql_rows(cursor, f"{_POSTGRESQL_COLUMNS} FROM {table} {where}", params, chunk_size)
    else:
        columns = ", ".join((*HASHED_COLUMNS, "entry_hash"))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM {table} {where} ORDER BY seq", params)  # noqa: S608 (constants)
            while rows := cursor.fetchmany(chunk_size):
                yield from map(_sqlite_row, rows)


# HASHED_COLUMNS and entry_hash as canonical_stored reads them: the time as utc_iso writes it (UTC, always six
# digits of microseconds), ids as text, the changes as the stored JSON text; the address through the cursor's
# text loader below (inet's own output, as the driver's address object would print it).
_POSTGRESQL_COLUMNS = (
    "SELECT id, seq, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "actor_id::text, actor_username, actor_role, action, patient_id::text, record_type, record_id, "
    "changes::text, reason, ip_address, user_agent, prev_hash, entry_hash"
)


def _postgresql_rows(cursor, sql: str, params: list, chunk_size: int) -> Iterator[tuple]:
    from psycopg.types.string import TextLoader

    cursor.adapters.register_loader("inet", TextLoader)
    cursor.itersize = chunk_size
    cursor.execute(sql + " ORDER BY seq", params)
    while rows := cursor.fetchmany(chunk_size):
        yield from rows


def _sqlite_row(row: tuple) -> tuple:
    """A row as SQLite gives it (the time as naive UTC text, ids as numbers), in canonical_stored's form."""
    event_id, seq, occurred_at, actor_id, *middle, patient_id, record_type, record_id, changes = row[:11]
    return (
        event_id,
        seq,
        utc_iso(datetime.fromisoformat(occurred_at)) if isinstance(occurred_at, str) else utc_iso(occurred_at),
        _id(actor_id),
        *middle,
        _id(patient_id),
        record_type,
        record_id,
        changes.decode() if isinstance(changes, bytes) else changes,
        *row[11:],
    )


# A chain shorter than this is walked in one process: starting workers costs more.
PARALLEL_FROM = 200_000


def verify_chain(
    *,
    anchor: tuple[int, str] | None = None,
    expected: Sequence[tuple[int, str]] = (),
    progress=None,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    range_size: int | None = None,
) -> ChainReport:
    """Walk the whole chain; on PostgreSQL, a long chain is split into ranges walked by several processes.

    Each event stores the hash of the one before it, so a range from position A can be
    checked on its own: it starts from the stored hash of event A - 1, and the range
    before it checks that hash. Together the ranges check every event and every link,
    exactly as one walk would; the first problem reported is the one at the lowest position.
    """
    from django.db import connection

    def in_this_process() -> ChainReport:
        return walk_chain(chain_rows(), anchor=anchor, expected=expected, progress=progress)

    # One walker per core: a walker alone leaves a core idle while it waits for the next rows and
    # the database server idle while it hashes them (README, "Scale and speed": on 2 cores, two
    # walkers checked 88,000-104,000 events/s where one checked 49,000-54,000).
    workers = workers if workers is not None else os.cpu_count() or 1
    head = _head_seq()
    if (
        workers < 2
        or head < parallel_from
        or connection.vendor != "postgresql"
        or connection.in_atomic_block  # uncommitted rows other processes cannot see
        # Worker processes from the command's main thread only, never from a web server's threads.
        or threading.current_thread() is not threading.main_thread()
    ):
        return in_this_process()
    try:
        return _walk_in_parallel(
            head, workers, anchor=anchor, expected=expected, progress=progress, range_size=range_size
        )
    except BrokenProcessPool:
        # A worker process could not start (for one, a script without `if __name__ == "__main__":`, whose
        # code a new interpreter runs again): the whole walk in this process.
        return in_this_process()


def _head_seq() -> int:
    from django.db.models import Max

    from records.models import AuditEvent

    return AuditEvent.objects.aggregate(head=Max("seq"))["head"] or 0


def _walk_in_parallel(
    head: int,
    workers: int,
    *,
    anchor: tuple[int, str] | None,
    expected: Sequence[tuple[int, str]],
    progress,
    range_size: int | None = None,
) -> ChainReport:
    import multiprocessing

    from django.db import DEFAULT_DB_ALIAS, connections

    started = time.perf_counter()
    # More ranges than processes, so a slow range does not leave a process idle.
    size = range_size or max(50_000, -(-head // (workers * 4)))
    ranges = [(first, min(head, first + size - 1)) for first in range(1, head + 1, size)]
    # Each process opens a connection of its own, never one inherited from this process
    # (nor the pool's): two processes talking on one socket would garble both.
    params = {
        key: value
        for key, value in connections[DEFAULT_DB_ALIAS].get_connection_params().items()
        if value is None or isinstance(value, (str, int, float))
    }
    report = ChainReport(workers=workers)
    results: dict[int, ChainReport] = {}
    # New interpreters, not forks: this process may run other threads (the connection pool's, a server's),
    # and a fork copies whatever locks they held. A worker needs only this module and psycopg. A worker that
    # cannot start breaks the executor (BrokenProcessPool, see verify_chain) instead of being started again.
    context = multiprocessing.get_context("spawn")
    jobs = [(first, last, anchor, tuple(expected), params) for first, last in ranges]
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for done in as_completed([pool.submit(_walk_range, job) for job in jobs]):
            first, part = done.result()
            results[first] = part
            if progress:
                progress(sum(r.checked for r in results.values()))
    anchor_seen = anchor is None
    outside = dict(expected)
    for first, _ in ranges:
        part = results[first]
        report.checked += part.checked
        for seq in part.found_outside:
            outside.pop(seq, None)
        if anchor is not None and first <= anchor[0] <= (part.head_seq or 0):
            anchor_seen = True
        if not part.intact:
            report.fail(seq=part.first_bad_seq, event_id=part.first_bad_id, problem=part.problem)
            break
        report.head_seq, report.head_hash = part.head_seq, part.head_hash
        if part.head_seq != min(head, first + size - 1):
            break  # cannot happen without a problem reported; kept for safety
    finish_walk(report, anchor=anchor, anchor_seen=anchor_seen, outside=outside)
    report.seconds = time.perf_counter() - started
    return report


def _walk_range(job: tuple) -> tuple[int, ChainReport]:
    """One process's range: from the stored hash before it, every event up to `last`."""
    import psycopg

    first, last, anchor, expected, params = job
    with psycopg.connect(**params) as raw:
        before = GENESIS_HASH
        if first > 1:
            found = raw.execute(
                f"SELECT entry_hash FROM {AUDIT_TABLE} WHERE seq = %s",  # noqa: S608
                [first - 1],
            ).fetchone()
            # A missing event before the range is the previous range's to report.
            before = found[0] if found else ""
        part = walk_chain(
            chain_rows(first=first, last=last, raw=raw),
            anchor=anchor,
            expected=expected,
            start=(first, before),
            final=False,
        )
    if part.intact and part.head_seq != last:
        # The range ends early: the events after its last row are missing.
        seq = (part.head_seq or first - 1) + 1
        part.fail(seq=seq, event_id=None, problem=f"the event(s) at position {seq} to {last} are missing (deleted).")
    return first, part
