"""Invented data at the scale of a working clinic, for measuring (`manage.py seed_scale`).

A clinic-year is 20 chairs x 4 sessions a day x 250 clinic days: 20,000 sessions, each
charted from arrival to signature with a reading every 15 minutes, its screening, order,
administration (start and stop), discharge and patient-reported outcomes, then signed by
its nurse and (most) co-signed by a physician, with the audit events the actions would
have written, views included, chained exactly as records.audit.writer chains them.

Fast because rows go in by the batch (COPY on PostgreSQL, executemany on SQLite), one
clinic day per transaction, never all in memory. Honest because nothing gets past the
database's guards: each session's rows go in while it is open, its status moves step by
step through the same UPDATEs the triggers check (screening -> cleared -> in_progress ->
recovery -> discharged -> signed -> cosigned), and it is signed only after its rows are
in (the signed-session lock refuses any row after that). The seals are built by
records.seals from the rows read back from the database, as the signing action does.
"""

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

from records.audit.chain import GENESIS_HASH, event_hash, normalise_ip
from records.audit.writer import CHAIN_LOCK_KEY
from records.models import (
    Administration,
    AdministrationEvent,
    AuditEvent,
    ClinicSettings,
    Discharge,
    Order,
    OutcomeReport,
    Screening,
    Session,
    User,
    VitalsReading,
)
from records.seals import COSIGN, SIGN, build_content, load_rows, seal_hash

CHAIRS = 20
SESSIONS_PER_CHAIR_DAY = 4
CLINIC_DAYS_PER_YEAR = 250
SESSIONS_PER_YEAR = CHAIRS * SESSIONS_PER_CHAIR_DAY * CLINIC_DAYS_PER_YEAR
READING_EVERY = timedelta(minutes=15)
# The session page is opened, and its polled sections re-read, several times per reading.
VIEWS_PER_READING = 8
COSIGNED_SHARE = 0.9
NO_SHOW_SHARE = 0.03
USER_AGENT = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15"


def sessions_for(clinic_years: float) -> int:
    return max(1, round(clinic_years * SESSIONS_PER_YEAR))


def clinic_days(end: date, count: int) -> list[date]:
    """The last `count` weekdays before `end`, oldest first."""
    days: list[date] = []
    day = end
    while len(days) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days[::-1]


# Inserting rows in bulk --------------------------------------------------------------------


def _columns(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`, drawn as the database would draw them."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: this transaction holds the database's write lock.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        (last,) = cursor.fetchone()
        return list(range(last + 1, last + 1 + count))


def _preparers(fields: Sequence[models.Field]) -> list[Callable[[Any], Any] | None]:
    """Per field, how a Python value becomes a database value (None: as it is).

    The driver takes ints, strings, booleans, dates and times as they are on PostgreSQL;
    only JSON needs Django's wrapping. SQLite needs Django's text forms for times,
    dates, decimals and JSON. Preparing only those fields keeps a row cheap.
    """
    real = connections[DEFAULT_DB_ALIAS]
    needs = (
        (models.JSONField,)
        if real.vendor == "postgresql"
        else (models.JSONField, models.DateTimeField, models.DateField, models.DecimalField)
    )

    def preparer(f: models.Field) -> Callable[[Any], Any]:
        return lambda value: f.get_db_prep_save(value, real)

    return [preparer(f) if isinstance(f, needs) else None for f in fields]


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` ({attname: value}, every concrete field present or defaulted) in one go."""
    if not rows:
        return
    fields = _columns(model)
    names = [str(f.column) for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    plan = list(zip([f.attname for f in fields], _preparers(fields), strict=True))
    table = model._meta.db_table
    prepared = (
        tuple(
            (prepare(row.get(name, defaults[name])) if prepare else row.get(name, defaults[name]))
            for name, prepare in plan
        )
        for row in rows
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for values in prepared:
                    copy.write_row(values)
        else:
            marks = ", ".join(["%s"] * len(names))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", list(prepared))  # noqa: S608


def update_rows(model: type[models.Model], assignments: str, rows: Iterable[Sequence[Any]]) -> None:
    """UPDATE one row per parameter tuple (its values, then its id): the triggers check each."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", list(rows))  # noqa: S608


def set_status(session_ids: Sequence[int], status: str) -> None:
    """Move these sessions one step along the workflow (the database checks the step and its evidence)."""
    update_rows(Session, "status = %s", [(status, pk) for pk in session_ids])


# The audit chain in bulk ----------------------------------------------------------------------


@dataclass
class PendingEvent:
    occurred_at: datetime
    actor: User
    role: str
    action: str
    patient_id: int | None
    record_type: str
    record_id: str
    changes: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


class ChainAppender:
    """Appends events after the chain's head, hashed exactly as records.audit.writer hashes them.

    Call `open()` inside the batch's transaction: on PostgreSQL it takes the chain's
    advisory lock (held to the commit, as the writer's is), so no audited action
    anywhere can interleave with the batch.
    """

    def __init__(self) -> None:
        self.seq = 0
        self.prev = GENESIS_HASH

    def open(self) -> None:
        table = AuditEvent._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            cursor.execute(f"SELECT seq, entry_hash FROM {table} ORDER BY seq DESC LIMIT 1")  # noqa: S608
            head = cursor.fetchone()
        self.seq, self.prev = head if head else (0, GENESIS_HASH)

    def append(self, events: list[PendingEvent]) -> None:
        events.sort(key=lambda e: e.occurred_at)
        ids = reserve_ids(AuditEvent, len(events))
        rows = []
        for event_id, event in zip(ids, events, strict=True):
            self.seq += 1
            ip = f"10.20.{event.actor.pk % 250}.{(event.actor.pk * 7) % 250 + 1}"
            row: dict[str, Any] = {
                "id": event_id,
                "seq": self.seq,
                "occurred_at": event.occurred_at,
                "actor_id": event.actor.pk,
                "actor_username": event.actor.username,
                "actor_role": event.role,
                "action": event.action,
                "patient_id": event.patient_id,
                "record_type": event.record_type,
                "record_id": event.record_id,
                "changes": event.changes,
                "reason": event.reason,
                "ip_address": normalise_ip(ip),
                "user_agent": USER_AGENT,
                "prev_hash": self.prev,
            }
            row["entry_hash"] = self.prev = event_hash(row)
            rows.append(row)
        insert_rows(AuditEvent, rows)


# One clinic day -------------------------------------------------------------------------------


@dataclass
class Staff:
    nurses: list[User]
    physicians: list[User]


@dataclass
class Counts:
    sessions: int = 0
    readings: int = 0
    events: int = 0
    outcomes: int = 0

    def add(self, other: "Counts") -> None:
        self.sessions += other.sessions
        self.readings += other.readings
        self.events += other.events
        self.outcomes += other.outcomes


def _at(day: date, hour: float) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()) + timedelta(hours=hour))


class DayBuilder:
    """Builds and inserts one clinic day (or part of one), in one transaction."""

    def __init__(self, *, staff: Staff, patients: Sequence[int], chain: ChainAppender, rng: random.Random):
        self.staff = staff
        self.patients = patients
        self.chain = chain
        self.rng = rng
        clinic = ClinicSettings.current()
        self.hold = (clinic.bp_hold_systolic, clinic.bp_hold_diastolic)

    def build(self, day: date, sessions: int) -> Counts:
        with transaction.atomic():
            self.chain.open()
            return self._build(day, sessions)

    def _build(self, day: date, count: int) -> Counts:
        rng = self.rng
        events: list[PendingEvent] = []
        counts = Counts(sessions=count)
        session_ids = reserve_ids(Session, count)
        plans: list[dict[str, Any]] = []
        for n, session_id in enumerate(session_ids):
            chair, slot = n % CHAIRS, n // CHAIRS
            start = _at(day, 8 + slot * 2.5 + rng.random() * 0.25)
            plans.append(
                {
                    "id": session_id,
                    "patient_id": self.patients[rng.randrange(len(self.patients))],
                    "chair": f"Chair {chair + 1}",
                    "nurse": self.staff.nurses[chair % len(self.staff.nurses)],
                    "physician": self.staff.physicians[rng.randrange(len(self.staff.physicians))],
                    "start": start,
                    "no_show": rng.random() < NO_SHOW_SHARE,
                }
            )
        shown = [p for p in plans if not p["no_show"]]
        no_shows = [p for p in plans if p["no_show"]]

        # Sessions: scheduled the week before; those who came are inserted arrived and screening.
        insert_rows(
            Session,
            [
                {
                    "id": p["id"],
                    "patient_id": p["patient_id"],
                    "planned_route": "iv_infusion",
                    "scheduled_at": p["start"],
                    "chair": p["chair"],
                    "primary_nurse_id": p["nurse"].pk,
                    "supervising_physician_id": p["physician"].pk,
                    "status": "scheduled" if p["no_show"] else "screening",
                    "arrived_at": None if p["no_show"] else p["start"] - timedelta(minutes=10),
                    "created_at": p["start"] - timedelta(days=7),
                }
                for p in plans
            ],
        )
        for p in plans:
            nurse = p["nurse"]
            events.append(
                self._event(
                    p, p["start"] - timedelta(days=7), nurse, "create", "session", {"status": [None, "scheduled"]}
                )
            )
            if not p["no_show"]:
                arrived = p["start"] - timedelta(minutes=10)
                events.append(self._event(p, arrived, nurse, "arrive", "session", {"status": ["scheduled", "arrived"]}))
                events.append(
                    self._event(
                        p,
                        arrived + timedelta(minutes=1),
                        nurse,
                        "begin_screening",
                        "session",
                        {"status": ["arrived", "screening"]},
                    )
                )

        # Readings, from the screening's blood pressure to the last one in recovery.
        readings = []
        for p in shown:
            infusion = self.rng.choice((40, 40, 45, 60))
            p["infusion_minutes"] = infusion
            p["stop"] = p["start"] + timedelta(minutes=infusion)
            p["discharged_at"] = p["stop"] + timedelta(minutes=75)
            moment, n = p["start"] - timedelta(minutes=5), 0
            while moment <= p["discharged_at"] - timedelta(minutes=5):
                phase = "pre" if n == 0 else ("during" if moment <= p["stop"] else "post")
                readings.append((p, self._reading(p, moment, phase)))
                moment += READING_EVERY
                n += 1
        reading_ids = reserve_ids(VitalsReading, len(readings))
        for reading_id, (p, row) in zip(reading_ids, readings, strict=True):
            row["id"] = reading_id
            p.setdefault("reading_ids", []).append(reading_id)
        insert_rows(VitalsReading, [row for _, row in readings])
        counts.readings = len(readings)
        for p, row in readings:
            at = row["entered_at"]
            values = {k: [None, _plain(row[k])] for k in ("systolic", "diastolic", "heart_rate", "spo2") if row[k]}
            events.append(self._event(p, at, p["nurse"], "create", "vitalsreading", values, record_id=row["id"]))
            for v in range(VIEWS_PER_READING):
                viewer = p["nurse"] if v < VIEWS_PER_READING - 1 else p["physician"]
                events.append(self._event(p, at + timedelta(seconds=20 + 60 * v), viewer, "view", "session", {}))

        # Screening: all negative, its blood pressure below the hold; the session is cleared.
        screening_ids = reserve_ids(Screening, len(shown))
        insert_rows(
            Screening,
            [
                {
                    "id": screening_id,
                    "session_id": p["id"],
                    "bp_reading_id": p["reading_ids"][0],
                    "hypertension_history": "no",
                    "hypertension_uncontrolled": "no",
                    "psychosis_history": "no",
                    "psychosis_current": "no",
                    "pregnancy": "not_pregnant_na",
                    "pregnancy_note": "Post-menopausal / not of child-bearing potential",
                    "bp_hold_systolic": self.hold[0],
                    "bp_hold_diastolic": self.hold[1],
                    "outcome": "cleared",
                    "screened_by_id": p["nurse"].pk,
                    "screened_at": p["start"] - timedelta(minutes=3),
                }
                for screening_id, p in zip(screening_ids, shown, strict=True)
            ],
        )
        set_status([p["id"] for p in shown], "cleared")
        for screening_id, p in zip(screening_ids, shown, strict=True):
            at = p["start"] - timedelta(minutes=3)
            events.append(
                self._event(
                    p, at, p["nurse"], "screen", "screening", {"outcome": [None, "cleared"]}, record_id=screening_id
                )
            )
            events.append(self._event(p, at, p["nurse"], "update", "session", {"status": ["screening", "cleared"]}))

        # The physician's written order, as written; its administration runs, then stops.
        order_ids = reserve_ids(Order, len(shown))
        orders = []
        for order_id, p in zip(order_ids, shown, strict=True):
            dose = self.rng.choice(("0.5", "0.5", "0.6", "0.75"))
            p["order_id"], p["dose"] = order_id, dose
            orders.append(
                {
                    "id": order_id,
                    "session_id": p["id"],
                    "ordering_physician_id": p["physician"].pk,
                    "received_as": "written",
                    "medication": "Ketamine hydrochloride",
                    "dose_value": dose,
                    "dose_unit": "mg/kg",
                    "route": "iv_infusion",
                    "rate_text": f"over {p['infusion_minutes']} minutes",
                    "order_text": f"Ketamine {dose} mg/kg IV over {p['infusion_minutes']} minutes",
                    "received_at": p["start"] - timedelta(days=1),
                    "documented_by_id": p["nurse"].pk,
                    "documented_at": p["start"] - timedelta(minutes=2),
                }
            )
            events.append(
                self._event(
                    p,
                    p["start"] - timedelta(minutes=2),
                    p["nurse"],
                    "create",
                    "order",
                    {"dose_value": [None, dose], "dose_unit": [None, "mg/kg"]},
                    record_id=order_id,
                )
            )
        insert_rows(Order, orders)
        administration_ids = reserve_ids(Administration, len(shown))
        insert_rows(
            Administration,
            [
                {
                    "id": administration_id,
                    "session_id": p["id"],
                    "order_id": p["order_id"],
                    "state": "running",
                    "site": "Left antecubital",
                    "lot_number": f"KT{day:%y%m}{p['id'] % 97:02d}",
                    "started_at": p["start"],
                    "started_by_id": p["nurse"].pk,
                }
                for administration_id, p in zip(administration_ids, shown, strict=True)
            ],
        )
        set_status([p["id"] for p in shown], "in_progress")
        event_ids = reserve_ids(AdministrationEvent, 2 * len(shown))
        insert_rows(
            AdministrationEvent,
            [
                {
                    "id": event_ids[2 * n + k],
                    "session_id": p["id"],
                    "administration_id": administration_id,
                    "kind": kind,
                    "occurred_at": at,
                    "recorded_by_id": p["nurse"].pk,
                }
                for n, (administration_id, p) in enumerate(zip(administration_ids, shown, strict=True))
                for k, (kind, at) in enumerate((("start", p["start"]), ("stop", p["stop"])))
            ],
        )
        update_rows(
            Administration,
            "state = 'stopped', stopped_at = %s, stopped_by_id = %s, amount_given_value = %s, "
            "amount_given_unit = 'mg/kg'",
            [
                (p["stop"], p["nurse"].pk, p["dose"], administration_id)
                for administration_id, p in zip(administration_ids, shown, strict=True)
            ],
        )
        set_status([p["id"] for p in shown], "recovery")
        for administration_id, p in zip(administration_ids, shown, strict=True):
            events.append(
                self._event(
                    p,
                    p["start"],
                    p["nurse"],
                    "administration_start",
                    "administration",
                    {"state": [None, "running"]},
                    record_id=administration_id,
                )
            )
            events.append(
                self._event(
                    p,
                    p["stop"],
                    p["nurse"],
                    "administration_stop",
                    "administration",
                    {"state": ["running", "stopped"], "amount_given_value": ["", p["dose"]]},
                    record_id=administration_id,
                )
            )

        # Discharge, and the patient's outcomes reported that day.
        discharge_ids = reserve_ids(Discharge, len(shown))
        insert_rows(
            Discharge,
            [
                {
                    "id": discharge_id,
                    "session_id": p["id"],
                    "alert_and_oriented": True,
                    "vitals_near_baseline": True,
                    "steady_walking": True,
                    "escort_present_not_driving": True,
                    "discharged_at": p["discharged_at"],
                    "discharged_by_id": p["nurse"].pk,
                }
                for discharge_id, p in zip(discharge_ids, shown, strict=True)
            ],
        )
        set_status([p["id"] for p in shown], "discharged")
        outcome_ids = reserve_ids(OutcomeReport, len(shown))
        insert_rows(
            OutcomeReport,
            [
                {
                    "id": outcome_id,
                    "patient_id": p["patient_id"],
                    "session_id": p["id"],
                    "reported_on": day,
                    "headache_days": self.rng.randint(2, 20),
                    "midas_total": self.rng.randint(5, 120),
                    "midas_completed_on": day,
                    "recorded_by_id": p["nurse"].pk,
                    "recorded_at": p["start"] - timedelta(minutes=8),
                }
                for outcome_id, p in zip(outcome_ids, shown, strict=True)
            ],
        )
        counts.outcomes = len(shown)
        for discharge_id, outcome_id, p in zip(discharge_ids, outcome_ids, shown, strict=True):
            events.append(
                self._event(
                    p,
                    p["start"] - timedelta(minutes=8),
                    p["nurse"],
                    "create",
                    "outcomereport",
                    {},
                    record_id=outcome_id,
                )
            )
            events.append(
                self._event(
                    p,
                    p["discharged_at"],
                    p["nurse"],
                    "discharge",
                    "discharge",
                    {"status": ["recovery", "discharged"]},
                    record_id=discharge_id,
                )
            )

        # No-shows: marked at the end of the day, with the reason.
        update_rows(
            Session,
            "status = 'no_show', exit_kind = 'no_show', exit_reason = %s",
            [("Did not attend; no answer by phone.", p["id"]) for p in no_shows],
        )
        for p in no_shows:
            p["discharged_at"] = p["start"] + timedelta(hours=1)
            events.append(
                self._event(
                    p, p["discharged_at"], p["nurse"], "no_show", "session", {"status": ["scheduled", "no_show"]}
                )
            )

        # Signatures, each sealed over the rows as the database now holds them.
        self._sign(plans, SIGN, events)
        self._sign([p for p in plans if self.rng.random() < COSIGNED_SHARE], COSIGN, events)

        self.chain.append(events)
        counts.events = len(events)
        return counts

    def _sign(self, plans: list[dict[str, Any]], kind: str, events: list[PendingEvent]) -> None:
        if not plans:
            return
        prefix = "signed" if kind == SIGN else "cosigned"
        rows = load_rows([p["id"] for p in plans])
        updates = []
        for p in plans:
            signer = p["nurse"] if kind == SIGN else p["physician"]
            at = p["discharged_at"] + timedelta(minutes=5 if kind == SIGN else 240)
            signature = {f"{prefix}_by_id": signer.pk, f"{prefix}_at": at, f"{prefix}_name": _printed(signer)}
            session_rows = rows[p["id"]]
            before = session_rows.session["status"]
            session_rows.session.update(signature)
            content = build_content(session_rows, kind=kind, as_of=at)
            after = "signed" if kind == SIGN else "cosigned"
            changes: dict[str, Any] = {
                "status": [before, after],
                f"{prefix}_by": [None, str(signer.pk)],
                f"{prefix}_at": [None, at.isoformat()],
                f"{prefix}_name": [None, signature[f"{prefix}_name"]],
                "seal_sha256": [None, seal_hash(content)],
                "sealed_content": [None, content],
            }
            events.append(
                self._event(
                    p, at, signer, kind, "session", changes, reason="charted by" if kind == SIGN else "reviewed by"
                )
            )
            updates.append((after, signer.pk, at, signature[f"{prefix}_name"], p["id"]))
        update_rows(Session, f"status = %s, {prefix}_by_id = %s, {prefix}_at = %s, {prefix}_name = %s", updates)

    def _reading(self, p: dict[str, Any], moment: datetime, phase: str) -> dict[str, Any]:
        rng = self.rng
        # Below the screening's hold (180/100 by default) every time.
        systolic = rng.randint(108, 138)
        row: dict[str, Any] = {
            "session_id": p["id"],
            "measured_at": moment,
            "entered_at": moment + timedelta(seconds=rng.randint(20, 120)),
            "entered_by_id": p["nurse"].pk,
            "phase": phase,
            "systolic": systolic,
            "diastolic": systolic - rng.randint(40, 55),
            "heart_rate": rng.randint(60, 100),
            "spo2": rng.randint(95, 100),
            "respiratory_rate": rng.randint(12, 18),
        }
        if phase == "pre":
            row["pain"] = rng.randint(0, 6)
        if phase == "during":
            row["sedation_rass"] = rng.choice((0, 0, -1))
            row["moaas"] = rng.choice((5, 5, 4))
            row["dissociation"] = rng.choice(("none", "mild", "mild", "moderate"))
            for item in ("cadss_1", "cadss_2", "cadss_6", "cadss_7", "cadss_15", "cadss_22"):
                row[item] = rng.randint(0, 2)
        return row

    def _event(
        self,
        p: dict[str, Any],
        at: datetime,
        actor: User,
        action: str,
        record_type: str,
        changes: dict[str, Any],
        *,
        record_id: int | None = None,
        reason: str = "",
    ) -> PendingEvent:
        return PendingEvent(
            occurred_at=at,
            actor=actor,
            role="nurse" if actor in self.staff.nurses else "physician",
            action=action,
            patient_id=p["patient_id"],
            record_type=record_type,
            record_id=str(record_id if record_id is not None else p["id"]),
            changes=changes,
            reason=reason,
        )


def _printed(user: User) -> str:
    return user.printed_name


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)


def seed(
    *,
    clinic_years: float,
    staff: Staff,
    patients: Sequence[int],
    end: date,
    seed: int = 12,
    progress: Callable[[Counts, int], None] | None = None,
) -> Counts:
    """Build `clinic_years` of clinic days ending the day before `end`, a day per transaction."""
    total = sessions_for(clinic_years)
    per_day = CHAIRS * SESSIONS_PER_CHAIR_DAY
    days = clinic_days(end, -(-total // per_day))
    builder = DayBuilder(staff=staff, patients=patients, chain=ChainAppender(), rng=random.Random(seed))  # noqa: S311 (invented data, not secrets)
    counts = Counts()
    left = total
    for day in days:
        counts.add(builder.build(day, min(per_day, left)))
        left -= per_day
        if progress:
            progress(counts, total)
    return counts
