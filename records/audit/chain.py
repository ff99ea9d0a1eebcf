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
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    content = {
        "v": CHAIN_VERSION,
        "id": _id(row["id"]),
        "seq": _id(row["seq"]),
        "occurred_at": utc_iso(row["occurred_at"]),
        "actor_id": _id(row["actor_id"]),
        "actor_username": row["actor_username"],
        "actor_role": row["actor_role"],
        "action": row["action"],
        "patient_id": _id(row["patient_id"]),
        "record_type": row["record_type"],
        "record_id": row["record_id"],
        "changes": row["changes"],
        "reason": row["reason"],
        "ip_address": normalise_ip(row["ip_address"]),
        "user_agent": row["user_agent"],
        "prev_hash": row["prev_hash"],
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


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
) -> ChainReport:
    """Check rows (tuples in HASHED_COLUMNS order plus entry_hash, by seq ascending).

    Stops at the first bad event: everything after it is suspect anyway, and the
    auditor needs to know where the damage starts. `anchor` is (seq, hash) of a
    head seen by an earlier verification; `expected`, heads kept outside the
    database (`verify_audit --expect SEQ:HASH`): the event at each SEQ must have
    that HASH.
    """
    report = ChainReport()
    started = time.perf_counter()
    expected_seq, expected_prev = 1, GENESIS_HASH
    anchor_seen = anchor is None
    outside = dict(expected)
    for values in rows:
        row = dict(zip(HASHED_COLUMNS, values[:-1], strict=True))
        stored_hash = values[-1]
        seq, event_id = row["seq"], row["id"]
        where = f"event #{event_id} at position {seq}"
        report.checked += 1
        if seq != expected_seq:
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
        if event_hash(row) != stored_hash:
            report.fail(
                seq=seq,
                event_id=event_id,
                problem=f"{where}: its content does not match its hash "
                "(the event was altered, or moved here from another position).",
            )
            break
        if row["prev_hash"] != expected_prev:
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
                report.fail(
                    seq=seq,
                    event_id=event_id,
                    problem=f"{where}: its hash differs from the one an earlier verification recorded "
                    "(the chain was rewritten up to here).",
                )
                break
        if seq in outside:
            kept = outside.pop(seq)
            if stored_hash != kept:
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
    report.seconds = time.perf_counter() - started
    return report


def chain_rows(chunk_size: int = 5000) -> Iterator[tuple]:
    """Every event's hashed columns and stored hash, by position, streamed:
    memory stays flat whatever the table's size (records.streaming)."""
    from records.models import AuditEvent
    from records.streaming import stream_rows

    return stream_rows(
        AuditEvent.objects.order_by("seq").values_list(*HASHED_COLUMNS, "entry_hash"), chunk_size=chunk_size
    )


def verify_chain(
    *, anchor: tuple[int, str] | None = None, expected: Sequence[tuple[int, str]] = (), progress=None
) -> ChainReport:
    return walk_chain(chain_rows(), anchor=anchor, expected=expected, progress=progress)
