"""The audit log's hash chain: a clean chain verifies, and every kind of tampering is caught.

Tampering is done the way someone with the database owner's rights would: with the
protective triggers switched off (tests/dbtools.py), straight in SQL.
"""

import itertools
import json
import threading
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from records.actions.audit import audit_chain_verify
from records.actions.context import Actor
from records.audit import audit_record
from records.audit.chain import GENESIS_HASH, HASHED_COLUMNS, event_hash
from records.models import AuditAction, AuditEvent, AuditVerification
from tests.conftest import actor_for
from tests.dbtools import triggers_suspended

pytestmark = pytest.mark.django_db
TABLE = AuditEvent._meta.db_table


@pytest.fixture
def chain(nurse, make_patient):
    """About a dozen events: account set-up, patients, and some with awkward content."""
    actor = actor_for(nurse)
    patient = make_patient(actor=actor)
    audit_record(actor=actor, action=AuditAction.VIEW, patient=patient, record=patient)
    odd = Actor(
        user=nurse,
        role="nurse",
        ip_address="2001:0db8:0000:0000:0000:0000:0000:0001",
        user_agent="ünï",
        username="nurse_a",
    )
    audit_record(
        actor=odd,
        action=AuditAction.UPDATE,
        patient=patient,
        record=patient,
        changes={"allergies": ["None known", "Latex — “rash”"], "nested": [{"b": 1, "a": [1.5, None]}, True]},
        reason="Corrected after the patient's call",
    )
    make_patient(actor=actor)
    return list(AuditEvent.objects.order_by("seq"))


def run_verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def verify_fails() -> str:
    with pytest.raises(CommandError) as excinfo:
        run_verify()
    return str(excinfo.value)


def tamper(sql: str, params=()):
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_walk_reads_the_audit_table():
    """chain.py names the table itself (its worker processes start without Django's models)."""
    from records.audit.chain import AUDIT_TABLE

    assert AUDIT_TABLE == TABLE


def test_the_split_walk_starts_its_workers_without_models():
    """A worker process is a new interpreter (not a fork of one that may run other threads): importing the walk
    there must not need Django's models, which are not loaded in it."""
    import subprocess
    import sys

    code = (
        "import records.audit.chain as c; import sys; assert 'records.models' not in sys.modules; print(c.AUDIT_TABLE)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == TABLE


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the chain is split over processes on PostgreSQL only")
def test_a_split_walk_whose_workers_cannot_start_walks_in_one_process(chain, monkeypatch):
    """If the worker processes cannot start, verification still answers, walking the chain in this process."""
    from concurrent.futures.process import BrokenProcessPool

    from records.audit import chain as walk

    def broken(*args, **kwargs):
        raise BrokenProcessPool("a worker could not start")

    monkeypatch.setattr(walk, "_walk_in_parallel", broken)
    report = walk.verify_chain(workers=2, parallel_from=1)
    assert report.intact
    assert report.checked == len(chain)
    assert report.workers == 1


def test_events_are_numbered_and_linked_in_order(chain):
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.entry_hash
    assert len({e.entry_hash for e in chain}) == len(chain)


def test_a_clean_chain_verifies_and_the_run_is_recorded(chain):
    output = run_verify()
    assert f"Checked {len(chain)} events" in output
    assert "events/s" in output
    assert "Audit chain intact." in output
    run = AuditVerification.objects.get()
    assert (run.result, run.events_checked, run.head_seq) == ("intact", len(chain), len(chain))
    assert run.started_by_name == "verify_audit command"
    # The run is itself audited, at the end of the chain, and the chain still verifies.
    last = AuditEvent.objects.latest("seq")
    assert (last.action, last.record_type, last.record_id) == ("verify", "auditverification", str(run.pk))
    assert "Audit chain intact." in run_verify()


def test_stored_content_hashes_back_to_the_same_value(chain):
    """Times, IPv6 addresses, unicode and nested JSON read back exactly as they were hashed."""
    rows = AuditEvent.objects.order_by("seq").values_list(*HASHED_COLUMNS, "entry_hash")
    for values in rows:
        assert event_hash(dict(zip(HASHED_COLUMNS, values[:-1], strict=True))) == values[-1]


def test_modified_event_is_detected(chain):
    target = chain[4]
    tamper(f"UPDATE {TABLE} SET reason = 'nothing happened' WHERE id = %s", [target.pk])
    message = verify_fails()
    assert f"event #{target.pk} at position {target.seq}" in message
    assert "does not match its hash" in message
    run = AuditVerification.objects.get()
    assert (run.result, run.first_bad_seq, run.first_bad_event_id) == ("tampered", target.seq, target.pk)


def test_modified_time_is_detected(chain):
    target = chain[2]
    tamper(f"UPDATE {TABLE} SET occurred_at = %s WHERE id = %s", [datetime(2020, 1, 1, tzinfo=UTC), target.pk])
    assert f"event #{target.pk} at position {target.seq}" in verify_fails()


def test_modified_event_with_its_hash_recomputed_breaks_the_next_link(chain):
    target, following = chain[3], chain[4]
    row = dict(zip(HASHED_COLUMNS, AuditEvent.objects.values_list(*HASHED_COLUMNS).get(pk=target.pk), strict=True))
    row["reason"] = "rewritten"
    tamper(f"UPDATE {TABLE} SET reason = 'rewritten', entry_hash = %s WHERE id = %s", [event_hash(row), target.pk])
    message = verify_fails()
    assert f"event #{following.pk} at position {following.seq}" in message
    assert f"does not follow the event at position {target.seq}" in message


def test_deleted_event_is_detected(chain):
    gone, next_one = chain[3], chain[4]
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [gone.pk])
    message = verify_fails()
    assert f"event #{next_one.pk} at position {next_one.seq}" in message
    assert f"position {gone.seq} are missing (deleted)" in message


def test_deleted_first_event_is_detected(chain):
    tamper(f"DELETE FROM {TABLE} WHERE id = %s", [chain[0].pk])
    assert "position 1 are missing" in verify_fails()


def test_inserted_event_is_detected(chain):
    """A forged event slipped in at position 4, with a correct hash, the later events renumbered."""
    at = 4
    with triggers_suspended(), connection.cursor() as cursor:
        for event in reversed(chain[at - 1 :]):
            cursor.execute(f"UPDATE {TABLE} SET seq = seq + 1 WHERE id = %s", [event.pk])
        forged = {
            "id": max(e.pk for e in chain) + 100,
            "seq": at,
            "occurred_at": chain[at - 1].occurred_at,
            "actor_id": None,
            "actor_username": "physician_a",
            "actor_role": "physician",
            "action": "view",
            "patient_id": None,
            "record_type": "patient",
            "record_id": "1",
            "changes": {},
            "reason": "",
            "ip_address": None,
            "user_agent": "",
            "prev_hash": chain[at - 2].entry_hash,
        }
        forged["entry_hash"] = event_hash(forged)
        AuditEvent.objects.bulk_create([AuditEvent(**{k: v for k, v in forged.items() if k != "id"}, id=forged["id"])])
    message = verify_fails()
    moved = chain[at - 1]
    assert f"event #{moved.pk} at position {at + 1}" in message
    assert AuditVerification.objects.get().first_bad_seq == at + 1


def test_event_appended_without_the_chain_is_detected(chain):
    last = chain[-1]
    with triggers_suspended():
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    seq=last.seq + 1,
                    occurred_at=last.occurred_at,
                    action="view",
                    prev_hash=last.entry_hash,
                    entry_hash="f" * 64,
                )
            ]
        )
    assert f"at position {last.seq + 1}: its content does not match its hash" in verify_fails()


def test_reordered_events_are_detected(chain):
    first, second = chain[2], chain[3]
    with triggers_suspended(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [10**12, first.pk])
        cursor.execute(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [first.seq, second.pk])
        cursor.execute(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [second.seq, first.pk])
    message = verify_fails()
    assert f"event #{second.pk} at position {first.seq}" in message
    assert "moved here from another position" in message


def test_chain_rewritten_after_a_verification_is_detected(chain):
    """Every hash recomputed from position 2 on: only the head an earlier run saw gives it away."""
    run_verify()
    rows = [
        dict(zip(HASHED_COLUMNS, values, strict=True))
        for values in AuditEvent.objects.order_by("seq").values_list(*HASHED_COLUMNS)
    ]
    with triggers_suspended(), connection.cursor() as cursor:
        prev = rows[0]["prev_hash"]
        for index, row in enumerate(rows):
            if index == 1:
                row["reason"] = "rewritten history"
            row["prev_hash"] = prev
            prev = event_hash(row)
            cursor.execute(
                f"UPDATE {TABLE} SET reason = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
                [row["reason"], row["prev_hash"], prev, row["id"]],
            )
    assert "differs from the one an earlier verification recorded" in verify_fails()


def test_latest_events_removed_after_a_verification_are_detected(chain):
    run_verify()
    tamper(f"DELETE FROM {TABLE} WHERE seq > %s", [len(chain) - 2])
    assert f"but an earlier verification saw it reach position {len(chain)}" in verify_fails()


def test_verification_runs_are_append_only(chain):
    run = audit_chain_verify(actor=Actor.system("tests"))
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditVerification.objects.filter(pk=run.pk).update(result="tampered", problem="x")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditVerification.objects.filter(pk=run.pk).delete()


def test_a_position_cannot_be_taken_twice(chain):
    """Even a writer that skipped the chain lock could not fork the chain."""
    last = chain[-1]
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.bulk_create(
            [AuditEvent(seq=last.seq, occurred_at=last.occurred_at, action="view", prev_hash="0", entry_hash="0")]
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers itself (IMMEDIATE transactions); the chain lock is PostgreSQL's",
)
def test_concurrent_writers_leave_a_chain_that_verifies(nurse, physician):
    """Two threads, each with its own connection, write events at the same time."""
    per_thread = 60
    # Both writers start each round together, so they contend for the chain in every round
    # and interleave however the machine schedules the threads.
    rounds = threading.Barrier(2, timeout=60)
    errors = []

    def write(user):
        try:
            actor = actor_for(user)
            for n in range(per_thread):
                rounds.wait()
                with transaction.atomic():
                    audit_record(actor=actor, action=AuditAction.VIEW, record_type="test", record_id=n)
                    # Keep the transaction open a moment after the insert, as an action's commit would.
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(0.001)")
        except Exception as exc:  # reported below
            rounds.abort()  # do not leave the other writer waiting
            errors.append(exc)
        finally:
            connection.close()

    before = AuditEvent.objects.count()
    threads = [threading.Thread(target=write, args=(user,)) for user in (nurse, physician)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AuditEvent.objects.count() == before + 2 * per_thread
    # The two writers really interleaved.
    actors = list(AuditEvent.objects.filter(record_type="test").order_by("seq").values_list("actor_id", flat=True))
    assert sum(1 for a, b in itertools.pairwise(actors) if a != b) >= per_thread
    assert "Audit chain intact." in run_verify()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers itself (IMMEDIATE transactions); the chain lock is PostgreSQL's",
)
def test_a_writer_that_waited_for_the_chain_links_to_the_event_committed_meanwhile(nurse, physician):
    """The lock and the head are taken in one round trip: the head must be read after the wait, not before."""
    first_written = threading.Event()
    found: dict = {}

    def second():
        try:
            first_written.wait(timeout=60)
            with transaction.atomic():
                found["event"] = audit_record(
                    actor=actor_for(physician), action=AuditAction.VIEW, record_type="test", record_id="second"
                )
        except Exception as exc:  # reported below
            found["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=second)
    thread.start()
    with transaction.atomic():
        first = audit_record(actor=actor_for(nurse), action=AuditAction.VIEW, record_type="test", record_id="first")
        first_written.set()
        # Commit only once the second writer waits for the chain's lock.
        with connection.cursor() as cursor:
            for _ in range(6000):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
                if cursor.fetchone()[0]:
                    break
                cursor.execute("SELECT pg_sleep(0.01)")
            else:
                pytest.fail("the second writer never waited for the chain's lock")
    thread.join()

    assert "error" not in found, found.get("error")
    assert (found["event"].seq, found["event"].prev_hash) == (first.seq + 1, first.entry_hash)
    assert "Audit chain intact." in run_verify()


@pytest.mark.django_db(transaction=True)
def test_large_reads_stream_without_holding_the_whole_result(chain):
    """On PostgreSQL the server-side cursor lives in a transaction (never WITH HOLD, which
    materialises every row first); on SQLite no transaction, which would take the write lock."""
    from records.streaming import stream_rows

    seen = []
    for seq in stream_rows(AuditEvent.objects.order_by("seq").values_list("seq", flat=True), chunk_size=2):
        seen.append((seq, connection.in_atomic_block))
    assert [seq for seq, _ in seen] == [e.seq for e in chain]
    assert {in_transaction for _, in_transaction in seen} == {connection.vendor == "postgresql"}
    assert not connection.in_atomic_block


def reference_content(row: dict) -> bytes:
    """The chain's canonical content as first defined: json.dumps of the content, sorted keys."""
    from records.audit.chain import CHAIN_VERSION, normalise_ip, utc_iso

    content = {
        "v": CHAIN_VERSION,
        **{name: (None if row[name] is None else str(row[name])) for name in ("id", "seq", "actor_id", "patient_id")},
        "occurred_at": utc_iso(row["occurred_at"]),
        **{
            name: row[name]
            for name in (
                "actor_username",
                "actor_role",
                "action",
                "record_type",
                "record_id",
                "changes",
                "reason",
                "user_agent",
                "prev_hash",
            )
        },
        "ip_address": normalise_ip(row["ip_address"]),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def test_the_canonical_content_is_the_sorted_json_of_the_event(chain):
    """The hand-written canonical JSON (fast to verify) is byte for byte the sorted json.dumps."""
    from records.audit.chain import canonical_content

    rows = [dict(zip(HASHED_COLUMNS, v, strict=True)) for v in AuditEvent.objects.values_list(*HASHED_COLUMNS)]
    odd = {
        **rows[0],
        "actor_id": None,
        "patient_id": None,
        "ip_address": None,
        "reason": 'quotes " and \\ and \n newline, ünïcödé, emoji \U0001f600',
        "changes": {"z": [None, {"y": 1, "b": [1.25, "ä"]}], "a": []},
        "occurred_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    for row in [*rows, odd]:
        assert canonical_content(row) == reference_content(row)


def _parallel_verify(**kwargs):
    from records.audit.chain import verify_chain

    return verify_chain(workers=2, parallel_from=1, range_size=2, **kwargs)


postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the chain is split on PostgreSQL")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_chain_split_over_processes_verifies_like_one_walk(chain):
    from records.audit.chain import verify_chain

    whole = verify_chain(workers=1)
    split = _parallel_verify()

    assert split.workers == 2
    assert (split.intact, split.checked, split.head_seq, split.head_hash) == (
        True,
        whole.checked,
        whole.head_seq,
        whole.head_hash,
    )


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("position", [1, 2, 3, 5], ids=["first", "end-of-range", "start-of-range", "last"])
def test_a_split_chain_names_the_same_first_bad_event(chain, position):
    from records.audit.chain import verify_chain

    target = chain[position - 1]
    later = chain[min(position + 2, len(chain) - 1)]
    tamper(f"UPDATE {TABLE} SET reason = 'nothing happened' WHERE id IN (%s, %s)", [target.pk, later.pk])

    split, whole = _parallel_verify(), verify_chain(workers=1)
    assert (split.first_bad_seq, split.first_bad_id, split.problem) == (target.seq, target.pk, whole.problem)


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("positions", [[2], [3], [3, 4]], ids=["end-of-range", "start-of-range", "whole-range"])
def test_a_split_chain_finds_deleted_events(chain, positions):
    """Ranges of two events: 1-2, 3-4, 5."""
    assert len(chain) == 5
    tamper(f"DELETE FROM {TABLE} WHERE seq = ANY(%s)", [positions])

    split = _parallel_verify()
    assert not split.intact
    # Named at the first missing position, or (as one walk does) at the event after the gap.
    assert split.first_bad_seq in (positions[0], positions[-1] + 1)
    assert f"position {positions[0]}" in split.problem
    assert "missing (deleted)" in split.problem


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_split_chain_checks_the_heads_kept_outside(chain):
    middle = chain[4]
    assert _parallel_verify(expected=[(middle.seq, middle.entry_hash)]).intact
    wrong = _parallel_verify(expected=[(middle.seq, "0" * 64)])
    assert wrong.first_bad_seq == middle.seq
    assert "kept outside the database" in wrong.problem
    beyond = _parallel_verify(expected=[(chain[-1].seq + 5, "0" * 64)])
    assert "the latest events were removed" in beyond.problem
    anchor = _parallel_verify(anchor=(chain[-1].seq + 1, "0" * 64))
    assert "an earlier verification saw it reach" in anchor.problem


def test_the_walk_reads_every_kind_of_value_as_the_writer_hashed_it(chain, nurse):
    """Verification reads the stored form (time and ids written by the database, changes as stored JSON text,
    records.audit.chain.canonical_stored); the writer hashes the values it holds (canonical_content). Both
    give the same bytes for every kind of value, so nothing written correctly is ever reported as altered."""
    import time_machine

    from records.audit.chain import canonical_content, canonical_stored, chain_rows, verify_chain

    awkward = Actor(
        user=nurse,
        role="nurse",
        ip_address="::ffff:10.0.0.7",
        user_agent="tab\there, DEL \x7f, bell \x07, 𝄞",
        username="nurse_a",
    )
    with time_machine.travel(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), tick=False):  # no microseconds
        audit_record(actor=awkward, action=AuditAction.SEARCH, record_type="patient", record_id="")
    audit_record(
        actor=awkward,
        action=AuditAction.UPDATE,
        record_type="patient",
        record_id="7",
        changes={"weight": [1e16, 0.1 + 0.2], "empty": ["", None], "z": [False, -0]},
        reason="\\ / \" ' \u2028",
    )
    audit_record(actor=Actor.system("tests"), action=AuditAction.VIEW, record_type="report", changes={})

    stored = {row[1]: canonical_stored(*row[:15]) for row in chain_rows()}
    written = {
        values[1]: canonical_content(dict(zip(HASHED_COLUMNS, values, strict=True)))
        for values in AuditEvent.objects.order_by("seq").values_list(*HASHED_COLUMNS)
    }
    assert len(stored) == len(written) >= len(chain) + 3
    assert stored == written
    assert verify_chain().intact
    # jsonb gives 1e+16 back as 10000000000000000: the writer stored and hashed that whole number.
    assert AuditEvent.objects.get(action=AuditAction.UPDATE, record_id="7").changes["weight"][0] == 10**16
