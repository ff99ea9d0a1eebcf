"""The one writer of audit events, and how it keeps the chain in one total order.

How the chain gets its total order (records.audit.chain explains the hashes):

- On PostgreSQL, `audit_record` takes a transaction-level advisory lock
  (pg_advisory_xact_lock) right before it reads the chain's head and inserts the
  event. The lock is held from that moment until the action's transaction commits
  or rolls back, so the next writer reads a head that is committed and final.
  Nothing before the audit insert waits: actions write their rows first and call
  `audit_record` last, and the event is built before the lock is taken, so the
  lock covers one round trip (the lock, then the head, in two statements), the
  hash, one INSERT and the commit (about a millisecond). The cost: audited
  transactions commit one after another, about a thousand a second on a 2-core
  machine, far above a clinic's load. Reads never wait.
- On SQLite, writers are serialised anyway (transactions begin IMMEDIATE).
- `seq` is UNIQUE, so even a writer that bypassed the lock could never fork the
  chain: it would fail and roll back its action instead.
- Call `audit_record` last in an action: a lock taken on other rows after it
  could wait on a transaction that waits for the audit lock (a deadlock, which
  PostgreSQL detects and refuses).
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from records.actions.context import Actor
from records.audit.chain import GENESIS_HASH, event_hash
from records.models import AuditAction, AuditEvent, Patient

# Any constant: the key of the advisory lock that orders the chain.
CHAIN_LOCK_KEY = 0x41554449545F4348  # "AUDIT_CH"


# A field value as the audit log's before/after records hold it.
PlainValue = bool | int | str | None


def _plain(value: object) -> PlainValue:
    """A JSON-safe, human-readable form of a field value for before/after records."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def diff_fields(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, list[PlainValue]]:
    """{field: [before, after]} for the fields whose value changed."""
    changes: dict[str, list[PlainValue]] = {}
    for name in after:
        old, new = _plain(before.get(name)), _plain(after.get(name))
        if old != new and not (old in (None, "") and new in (None, "")):
            changes[name] = [old, new]
    return changes


def audit_record(
    *,
    actor: Actor,
    action: AuditAction | str,
    patient: Patient | None = None,
    record: models.Model | None = None,
    record_type: str = "",
    record_id: str | int = "",
    changes: Mapping[str, Sequence[object]] | None = None,
    reason: str = "",
    username: str = "",
) -> AuditEvent:
    """Append one audit event. Call it inside the action's transaction (rule R6 in records.rules)."""
    action = AuditAction(action)  # an unknown kind of event is a programming error: refuse it
    if record is not None:
        record_type = record_type or record._meta.model_name or ""
        record_id = record_id or record.pk
    # Everything but the event's place in the chain is prepared before the chain's lock is taken, so
    # that the lock covers only reading the head, hashing, one INSERT and the commit.
    event = AuditEvent(
        actor=actor.user if getattr(actor.user, "pk", None) else None,
        actor_username=(username or actor.username)[:150],
        actor_role=actor.role,
        action=str(action),
        patient=patient,
        record_type=record_type,
        record_id=str(record_id or ""),
        changes=as_read_back(changes or {}),
        reason=reason,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent[:512],
    )
    sql, late, early = _insert_statement()
    values = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in early]
    # No savepoint of its own: an event that cannot be written fails the action's whole transaction
    # (two queries fewer for every event, page views included).
    with transaction.atomic(savepoint=False):
        event.id, event.seq, event.prev_hash = _next_link()
        event.occurred_at = timezone.now()  # after the lock: times follow the chain's order
        event.entry_hash = event_hash(event_row(event))
        params = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in late] + values
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        event._state.adding = False
        event._state.db = connection.alias
        return event


# The columns an event's place in the chain decides, given their values once the lock is held.
_LATE_COLUMNS = ("id", "seq", "occurred_at", "prev_hash", "entry_hash")
_statements: dict[str, tuple[str, list[models.Field], list[models.Field]]] = {}


def _insert_statement() -> tuple[str, list[models.Field], list[models.Field]]:
    """The event's INSERT (for this database), with the fields whose values come late and early."""
    vendor = connection.vendor
    if vendor not in _statements:
        fields = list(AuditEvent._meta.concrete_fields)
        late = [field for field in fields if field.attname in _LATE_COLUMNS]
        early = [field for field in fields if field.attname not in _LATE_COLUMNS]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column or field.attname) for field in (*late, *early))
        placeholders = ", ".join(["%s"] * len(fields))
        _statements[vendor] = (
            f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) VALUES ({placeholders})",  # noqa: S608
            late,
            early,
        )
    return _statements[vendor]


def as_read_back(value: Any) -> Any:
    """`changes` as the database will give them back, so that the hash covers what verification reads.

    PostgreSQL's jsonb keeps a number's digits but not how it was written: a float Python writes with an
    exponent and no fraction (1e+16) comes back as the integer 10000000000000000. Such floats are stored
    as the whole numbers they are; every other value is kept as it is.
    """
    if isinstance(value, float) and value.is_integer() and "e" in repr(value):
        return int(value)
    if isinstance(value, Mapping):
        return {key: as_read_back(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_read_back(item) for item in value]
    return value


def event_row(event: AuditEvent) -> dict[str, object]:
    """An event's hashed columns, as verification will read them back."""
    return {
        "id": event.id,
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_role": event.actor_role,
        "action": event.action,
        "patient_id": event.patient_id,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "changes": event.changes,
        "reason": event.reason,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "prev_hash": event.prev_hash,
    }


# Constants only (no parameters), so that the two statements go in one message.
_NEXT_LINK_POSTGRESQL = (
    f"SELECT nextval(pg_get_serial_sequence('{AuditEvent._meta.db_table}', 'id')), "  # noqa: S608
    f"pg_advisory_xact_lock({CHAIN_LOCK_KEY}); "
    f"SELECT seq, entry_hash FROM {AuditEvent._meta.db_table} ORDER BY seq DESC LIMIT 1"
)


def _next_link() -> tuple[int, int, str]:
    """(id, seq, prev_hash) for the next event; on PostgreSQL, takes the chain lock.

    The id is part of the hash, so it is drawn before the insert.
    """
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The id (from its sequence, which needs no lock), the lock, then the head, in one round trip of
            # two statements. The head is read by the second, whose snapshot is taken once the lock is held:
            # read in the same statement, it could miss an event committed while this one waited for the lock.
            cursor.execute(_NEXT_LINK_POSTGRESQL)
            event_id = cursor.fetchone()[0]
            cursor.nextset()
            head = cursor.fetchone()
        else:
            # SQLite: this transaction already holds the database's write lock.
            cursor.execute(f"SELECT seq, entry_hash FROM {table} ORDER BY seq DESC LIMIT 1")  # noqa: S608
            head = cursor.fetchone()
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
            (event_id,) = cursor.fetchone()
    if head is None:
        return event_id, 1, GENESIS_HASH
    return event_id, head[0] + 1, head[1]
