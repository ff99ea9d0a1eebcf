"""Signature seals: a signature bound to the content it signed.

The audit chain (records.audit.chain) proves that no audit event was altered; it
says nothing about the clinical rows themselves. A seal closes that gap. When the
nurse signs a session, and again when the physician co-signs it, the action
(records.actions.sessions) writes into its own audit event:

- `sealed_content`: the session's clinical rows as signed, as canonical JSON
  (every column of the session, its screening(s), vitals readings with their
  entered-in-error marks, orders, administrations and their events, side effects
  and discharge; doses as the exact strings written; times in UTC);
- `seal_sha256`: the SHA-256 of that content.

Both are in the hash chain, so neither can be changed without the chain showing
it. `verify_seals` recomputes the content of every signed session from the
database and names each session whose rows no longer hash to their seal; the
session print (records.views.review.session_pdf) shows the content as signed and
says so prominently when the database differs.

What a seal covers, and what it leaves out by design:

- the session row, except its status and, for the nurse's seal, the physician's
  co-signature (both change after the nurse signs, each with its own audit event);
- an order's co-signature as it stood at the moment of sealing: a verbal order may
  be co-signed later (allowed by design); that co-signature does not break an
  earlier seal, and the session co-signature's seal covers it if it came first;
- addenda written before the moment of sealing (so the co-signature's seal covers
  what the physician saw; the nurse's seal none, as addenda come after signing).

The seal lists the columns it covers (`columns`), and verification recomputes
exactly those: a column added by a later migration is covered by later seals and
does not break earlier ones. A column that may change after signing by design must
be added to the exclusions below, with the reason.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db import models

from records.audit.chain import utc_iso
from records.models import (
    Addendum,
    Administration,
    AdministrationEvent,
    AuditAction,
    AuditEvent,
    Discharge,
    Order,
    Screening,
    Session,
    SideEffect,
    User,
    VitalsReading,
)

SEAL_VERSION = 1
SEAL_KEY = "seal_sha256"
CONTENT_KEY = "sealed_content"
SEAL_ACTIONS = (str(AuditAction.SIGN), str(AuditAction.COSIGN))
SIGN, COSIGN = "sign", "cosign"

# The session's own row: columns that change after the nurse signs, by design.
SESSION_UNSEALED = {
    SIGN: frozenset({"status", "cosigned_by_id", "cosigned_at", "cosigned_name"}),
    COSIGN: frozenset({"status"}),
}
# An order's co-signature: sealed as it stood at the moment of sealing.
ORDER_COSIGNATURE = ("cosigned_by_id", "cosigned_at")

# The session's clinical rows, each table under its key in the content, rows by id.
PARTS: dict[str, type[models.Model]] = {
    "screenings": Screening,
    "readings": VitalsReading,
    "orders": Order,
    "administrations": Administration,
    "administration_events": AdministrationEvent,
    "side_effects": SideEffect,
    "discharges": Discharge,
    "addenda": Addendum,
}

Row = dict[str, Any]
Content = dict[str, Any]


def columns_of(model: type[models.Model]) -> list[str]:
    """Every column of the table, by attribute name (`session_id`, not `session`)."""
    return [f.attname for f in model._meta.concrete_fields]


def _plain(value: object) -> object:
    """A column's value as the content holds it: exact strings for doses and decimals, UTC for times."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def canonical(content: Mapping[str, Any]) -> bytes:
    """Stable JSON: sorted keys, no spaces, ASCII only."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def seal_hash(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class SessionRows:
    """A session's rows as the database holds them now (each a {column: value} dict)."""

    session: Row
    parts: dict[str, list[Row]] = field(default_factory=dict)


def load_rows(session_ids: Sequence[int]) -> dict[int, SessionRows]:
    """The current rows of these sessions: one query per table, whatever the number of sessions."""
    found: dict[int, SessionRows] = {}
    for row in Session.objects.filter(pk__in=session_ids).order_by("pk").values(*columns_of(Session)):
        found[row["id"]] = SessionRows(session=row, parts={key: [] for key in PARTS})
    for key, model in PARTS.items():
        rows = model._default_manager.filter(session_id__in=session_ids).order_by("pk").values(*columns_of(model))
        for row in rows:
            if row["session_id"] in found:
                found[row["session_id"]].parts[key].append(row)
    return found


class ColumnGone(Exception):
    """A sealed column no longer exists: the content cannot be recomputed."""


def build_content(
    rows: SessionRows, *, kind: str, as_of: datetime, columns: Mapping[str, Sequence[str]] | None = None
) -> Content:
    """The content a seal of `kind` at `as_of` covers, from `rows`.

    `columns`: the columns to cover per table (a stored seal's own list); by default
    every current column but the exclusions.
    """
    if columns is None:
        columns = {"session": [c for c in columns_of(Session) if c not in SESSION_UNSEALED[kind]]}
        columns |= {key: columns_of(model) for key, model in PARTS.items()}

    def project(row: Row, table: str) -> Row:
        try:
            return {name: _plain(row[name]) for name in columns[table]}
        except KeyError as gone:
            raise ColumnGone(f"the sealed column {table}.{gone.args[0]} no longer exists") from gone

    content: Content = {
        "v": SEAL_VERSION,
        "kind": kind,
        "as_of": utc_iso(as_of),
        "session_id": rows.session["id"],
        "columns": {table: list(names) for table, names in columns.items()},
        "session": project(rows.session, "session"),
    }
    for key in PARTS:
        part_rows = rows.parts.get(key, [])
        if key == "addenda":
            part_rows = [r for r in part_rows if r["written_at"] <= as_of]
        projected = [project(r, key) for r in part_rows]
        if key == "orders":
            for original, row in zip(part_rows, projected, strict=True):
                if original["cosigned_at"] is None or original["cosigned_at"] > as_of:
                    row.update(dict.fromkeys(c for c in ORDER_COSIGNATURE if c in row))
        content[key] = projected
    return content


def seal_make(
    *, session_id: int, kind: str, as_of: datetime, signature: Mapping[str, object]
) -> dict[str, list[object]]:
    """The seal for the sign (or co-sign) audit event: {seal_sha256: [None, hash], sealed_content: [None, content]}.

    `signature`: the session columns the signing action sets ({"signed_at": ..., ...}),
    not yet saved when the seal is made. Call inside the action's transaction, with
    the session and its orders locked.
    """
    rows = load_rows([session_id])[session_id]
    rows.session.update(signature)
    content = build_content(rows, kind=kind, as_of=as_of)
    return {SEAL_KEY: [None, seal_hash(content)], CONTENT_KEY: [None, content]}


# Checking ------------------------------------------------------------------------------


@dataclass
class SealCheck:
    """One seal of a session, recomputed from the database."""

    session_id: int
    kind: str
    seq: int
    occurred_at: datetime
    actor_username: str
    sha256: str
    content: Content
    differences: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.differences

    @property
    def meaning(self) -> str:
        return "Charted by" if self.kind == SIGN else "Reviewed by"

    @property
    def signer(self) -> str:
        """The printed name the signature was given with, as sealed."""
        name = self.content.get("session", {}).get("signed_name" if self.kind == SIGN else "cosigned_name")
        return str(name or self.actor_username)

    @property
    def sealed_at(self) -> datetime:
        return parse_utc(self.content["as_of"])


def _describe(value: object) -> str:
    return "empty" if value in (None, "") else repr(value)


def differences(sealed: Content, now: Content, limit: int = 5) -> list[str]:
    """What changed between the sealed content and the content now, in words (the first few)."""
    found: list[str] = []
    for name, value in sealed["session"].items():
        if now["session"].get(name) != value:
            found.append(f"session {name}: signed {_describe(value)}, now {_describe(now['session'].get(name))}")
    for key in PARTS:
        before = {r["id"]: r for r in sealed.get(key, [])}
        after = {r["id"]: r for r in now.get(key, [])}
        label = key.replace("_", " ")
        for pk in sorted(before.keys() - after.keys()):
            found.append(f"{label} #{pk}: removed since signing")
        for pk in sorted(after.keys() - before.keys()):
            found.append(f"{label} #{pk}: added since signing")
        for pk in sorted(before.keys() & after.keys()):
            for name, value in before[pk].items():
                if after[pk].get(name) != value:
                    found.append(
                        f"{label} #{pk} {name}: signed {_describe(value)}, now {_describe(after[pk].get(name))}"
                    )
    if not found:
        found.append("the content differs from its seal")
    more = len(found) - limit
    return found[:limit] + ([f"and {more} more"] if more > 0 else [])


def check_seal(check: SealCheck, rows: SessionRows | None) -> SealCheck:
    """Recompute `check`'s content from `rows` and record what differs (nothing: intact)."""
    content = check.content
    if seal_hash(content) != check.sha256:
        check.differences = ["the stored content does not hash to its seal"]
        return check
    if rows is None:
        check.differences = ["the session row is gone"]
        return check
    try:
        now = build_content(rows, kind=check.kind, as_of=parse_utc(content["as_of"]), columns=content["columns"])
    except ColumnGone as gone:
        check.differences = [str(gone)]
        return check
    if seal_hash(now) != check.sha256:
        check.differences = differences(content, now)
    return check


def _seal_events(session_ids: Iterable[int]) -> dict[int, list[tuple[int, datetime, str, str, dict[str, Any]]]]:
    """The sign and co-sign events of these sessions, by position in the chain (one query)."""
    events: dict[int, list[tuple[int, datetime, str, str, dict[str, Any]]]] = defaultdict(list)
    rows = (
        AuditEvent.objects.filter(
            record_type="session", record_id__in=[str(pk) for pk in session_ids], action__in=SEAL_ACTIONS
        )
        .order_by("seq")
        .values_list("seq", "occurred_at", "actor_username", "action", "record_id", "changes")
    )
    for seq, occurred_at, username, action, record_id, changes in rows:
        events[int(record_id)].append((seq, occurred_at, username, action, changes or {}))
    return events


@dataclass
class SessionSeals:
    """A signed session's seals, each recomputed; and what is wrong beyond them."""

    session_id: int
    seals: list[SealCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Signed before seals were written: the signature event carries none.
    unsealed: bool = False

    @property
    def intact(self) -> bool:
        return not self.problems and all(s.intact for s in self.seals)

    def describe(self) -> str:
        parts = list(self.problems)
        for seal in self.seals:
            if not seal.intact:
                parts.append(
                    f"{'signature' if seal.kind == SIGN else 'co-signature'} seal (audit event at position "
                    f"{seal.seq}): " + "; ".join(seal.differences)
                )
        return f"session {self.session_id}: " + "; ".join(parts)

    def seal_of(self, kind: str) -> SealCheck | None:
        return next((s for s in reversed(self.seals) if s.kind == kind), None)


def _session_seals(session_id: int, rows: SessionRows | None, events: list[Any]) -> SessionSeals:
    result = SessionSeals(session_id=session_id)
    session = rows.session if rows is not None else {}
    kinds = {action for _, _, _, action, _ in events}
    if session.get("signed_at") is None:
        if events:
            result.problems.append(
                f"no longer signed, though the audit log records its signature at position {events[0][0]}"
            )
    elif SIGN not in kinds:
        result.problems.append("signed, but the audit log has no signature event for it")
    if session.get("cosigned_at") is not None and COSIGN not in kinds:
        result.problems.append("co-signed, but the audit log has no co-signature event for it")
    for seq, occurred_at, username, action, changes in events:
        sealed, content = changes.get(SEAL_KEY), changes.get(CONTENT_KEY)
        if not sealed:
            result.unsealed = True
            continue
        check = SealCheck(
            session_id=session_id,
            kind=action,
            seq=seq,
            occurred_at=occurred_at,
            actor_username=username,
            sha256=str(sealed[-1]),
            content=cast(Content, content[-1] if isinstance(content, list) else content),
        )
        result.seals.append(check_seal(check, rows))
    return result


def session_seals(session: Session) -> SessionSeals | None:
    """The seals of one session, checked against the database now (None: never signed)."""
    events = _seal_events([session.pk]).get(session.pk, [])
    if session.signed_at is None and not events:
        return None
    rows = load_rows([session.pk]).get(session.pk)
    return _session_seals(session.pk, rows, events)


@dataclass
class SealReport:
    """What checking every signed session's seals found."""

    sessions_checked: int = 0
    seals_checked: int = 0
    unsealed: int = 0
    broken: list[SessionSeals] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken

    def problem(self, limit: int = 20) -> str:
        """The sessions whose content changed, named, for the verification's record."""
        if not self.broken:
            return ""
        named = " | ".join(s.describe() for s in self.broken[:limit])
        more = len(self.broken) - limit
        return (
            f"Signed content changed since signing in {len(self.broken)} session(s): {named}"
            + (f" | and {more} more" if more > 0 else "")
            + "."
        )


def session_batches(batch_size: int) -> Iterator[list[tuple[int, bool]]]:
    """(id, signed) of every session, a batch at a time (keyset pages: flat memory, one query each)."""
    last = 0
    while True:
        batch = [
            (pk, signed_at is not None)
            for pk, signed_at in Session.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "signed_at")[:batch_size]
        ]
        if not batch:
            return
        yield batch
        last = batch[-1][0]


def verify_seals(*, batch_size: int = 200) -> SealReport:
    """Recompute the seals of every signed session and name each whose content changed.

    Also names a session the audit log says was signed that is no longer signed, and a
    signed session with no signature event. Three to eleven queries per batch of
    sessions, whatever their number, and one batch's rows in memory at a time.
    """
    report = SealReport()
    for batch in session_batches(batch_size):
        events = _seal_events(pk for pk, _ in batch)
        to_check = [pk for pk, signed in batch if signed or pk in events]
        rows = load_rows(to_check) if to_check else {}
        for session_id in to_check:
            seals = _session_seals(session_id, rows.get(session_id), events.get(session_id, []))
            report.sessions_checked += 1
            report.seals_checked += len(seals.seals)
            if seals.unsealed and not seals.seals:
                report.unsealed += 1
            if not seals.intact:
                report.broken.append(seals)
    return report


# The record as signed, for the print -------------------------------------------------------


def _instance(model: type[models.Model], row: Mapping[str, Any]) -> Any:
    """An unsaved model instance from a sealed row (never saved: it is the record as signed)."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return model(**{name: fields[name].to_python(value) for name, value in row.items() if name in fields})


@dataclass
class SignedRecord:
    """The session's rows as signed, as model instances for the print's templates."""

    session: Session
    screening: Screening | None
    screenings: list[Screening]
    readings: list[VitalsReading]
    orders: list[Order]
    administrations: list[Administration]
    events: list[AdministrationEvent]
    side_effects: list[SideEffect]
    discharge: Discharge | None


def signed_record(content: Content, current: Session) -> SignedRecord:
    """Rebuild the signed rows from a seal's content, with their people (one query for every name).

    Status and co-signatures added after sealing come from `current`: they are allowed to follow.
    """
    session = cast(Session, _instance(Session, content["session"]))
    session.status = current.status
    session.patient = current.patient
    if session.cosigned_at is None:
        session.cosigned_by_id, session.cosigned_at = current.cosigned_by_id, current.cosigned_at
        session.cosigned_name = current.cosigned_name
    parts: dict[str, list[Any]] = {key: [_instance(model, row) for row in content[key]] for key, model in PARTS.items()}
    # A verbal order's co-signature given after the seal: shown, and marked as later.
    later = {
        o.pk: o
        for o in Order.objects.filter(
            pk__in=[o.pk for o in parts["orders"] if o.cosigned_at is None], cosigned_at__isnull=False
        )
    }
    for order in parts["orders"]:
        order.cosigned_after_seal = order.pk in later
        if order.pk in later:
            order.cosigned_by_id, order.cosigned_at = later[order.pk].cosigned_by_id, later[order.pk].cosigned_at
    people = {
        getattr(obj, f.attname)
        for obj in [session, *(o for rows in parts.values() for o in rows)]
        for f in obj._meta.concrete_fields
        if f.is_relation and f.related_model is User and getattr(obj, f.attname) is not None
    }
    users = User.objects.in_bulk(people)
    readings = {r.pk: r for r in parts["readings"]}
    orders = {o.pk: o for o in parts["orders"]}
    administrations = {a.pk: a for a in parts["administrations"]}
    for obj in [session, *(o for rows in parts.values() for o in rows)]:
        for f in obj._meta.concrete_fields:
            if f.is_relation and f.related_model is User:
                setattr(obj, f.name, users.get(getattr(obj, f.attname)))
        if obj is not session and hasattr(obj, "session_id"):
            obj.session = session
    for screening in parts["screenings"]:
        screening.bp_reading = readings.get(screening.bp_reading_id)
    for administration in parts["administrations"]:
        administration.order = orders.get(administration.order_id)
    for event in parts["administration_events"]:
        event.administration = administrations.get(event.administration_id)
    return SignedRecord(
        session=session,
        screening=parts["screenings"][-1] if parts["screenings"] else None,
        screenings=parts["screenings"],
        readings=parts["readings"],
        orders=parts["orders"],
        administrations=parts["administrations"],
        events=parts["administration_events"],
        side_effects=parts["side_effects"],
        discharge=parts["discharges"][-1] if parts["discharges"] else None,
    )


def current_record(session: Session) -> SignedRecord:
    """The session's rows as the database holds them now, in the same shape."""
    screenings = list(Screening.objects.filter(session=session).select_related("bp_reading", "decided_by"))
    discharges = list(Discharge.objects.filter(session=session))
    return SignedRecord(
        session=session,
        screening=screenings[-1] if screenings else None,
        screenings=screenings,
        readings=list(session.readings.all()),
        orders=list(session.orders.all()),
        administrations=list(session.administrations.all()),
        events=list(session.administration_events.all()),
        side_effects=list(session.side_effects.all()),
        discharge=discharges[-1] if discharges else None,
    )


def record_to_print(session: Session) -> tuple[SignedRecord, SessionSeals | None]:
    """What a print of the session shows, and its seals checked now.

    A signed session prints what was true when it was signed: the rows of its nurse's
    seal, whatever the database holds now (the seals say whether the two still agree).
    A session signed before seals, or not signed, prints its rows as they are.
    """
    seals = session_seals(session)
    sealed = seals.seal_of(SIGN) if seals is not None else None
    if sealed is None:
        return current_record(session), seals
    return signed_record(sealed.content, session), seals
