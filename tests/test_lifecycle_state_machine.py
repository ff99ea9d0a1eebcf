"""The session lifecycle driven at random through the actions, with the safety rules checked after every step.

A Hypothesis state machine plays a clinic's day: several patients, two nurses, two
physicians and an admin; sessions scheduled (again) for the same patient, arrivals,
screenings with any answers, physicians' decisions, cancellations, orders (doses as typed,
forms sent twice), starts and double starts, pauses, resumes, stops, readings charted and
struck as entered in error (the screening's own blood pressure too), discharges,
signatures, co-signatures and addenda, each by the right or the wrong person, in the right
or the wrong state. Every step goes through one action in records/actions/; a refusal
(ActionRefused, ValidationError, PermissionDenied) is a legitimate answer. After every step
the database itself is asked whether the rules of records/rules.py still hold:

- R3: no administration exists that was started without its session's current screening
  allowing it (cleared, or held and a physician decided to proceed; its BP not struck), nor
  while the patient had a hold elsewhere that the clearance had not seen;
- R4: at most one administration per order;
- R2: nothing in a signed session changes (its rows as they were at the signature, and its
  seals, recomputed by records.seals);
- R6: a write adds one audit event for each row it writes or changes, of the action's
  kind, and nothing else; a refusal writes nothing and no audit event, except the
  documented `start_refused` event of the hard stop;
- the session's status agrees with its screening, administrations and discharge, as the
  table of records/workflow.py says.

Each example runs in a savepoint that is rolled back, on a clock that stands still until a
step moves it (time-machine), from 10:00 on the test clinic day. The examples are the same
in every run; HYPOTHESIS_EXPLORE=1 draws new ones.
"""

import functools
import os
from collections import Counter
from datetime import timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from records.actions.context import ActionRefused
from records.actions.medications import (
    StartRefusedByScreening,
    administration_pause,
    administration_resume,
    administration_start,
    administration_stop,
    order_cosign,
    order_document,
)
from records.actions.screening import screening_decide, screening_record
from records.actions.sessions import (
    addendum_add,
    session_arrive,
    session_begin_screening,
    session_cancel,
    session_cosign,
    session_schedule,
    session_sign,
)
from records.actions.side_effects import discharge_record
from records.actions.vitals import vitals_mark_entered_in_error, vitals_record
from records.models import (
    Addendum,
    Administration,
    AdministrationEvent,
    AuditEvent,
    Discharge,
    Order,
    Screening,
    ScreeningDecision,
    ScreeningOutcome,
    Session,
    SideEffect,
    VitalsReading,
)
from records.permissions import Role
from records.seals import verify_seals
from tests.conftest import CLINIC_DAY, actor_for

pytestmark = [pytest.mark.django_db, pytest.mark.long_running]

LIFECYCLE = settings(
    max_examples=int(os.environ.get("LIFECYCLE_EXAMPLES", "20")),
    stateful_step_count=60,
    derandomize=not os.environ.get("HYPOTHESIS_EXPLORE"),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# The clinical tables a session's steps write, by the model name audit events use as record_type.
TABLES = {
    "session": Session,
    "screening": Screening,
    "vitalsreading": VitalsReading,
    "order": Order,
    "administration": Administration,
    "administrationevent": AdministrationEvent,
    "sideeffect": SideEffect,
    "discharge": Discharge,
    "addendum": Addendum,
}
# Rows written without an audit event of their own: an administration's start, pause, resume
# and stop events are recorded with the administration's audit event (the same step).
COVERED_BY = {"administrationevent": "administration"}
# What may change on a signed session's own row after the signature (records.seals: the status
# and the physician's co-signature), and on its orders (a verbal order's co-signature, by design).
SIGNED_MAY_CHANGE = {
    "session": {"status", "cosigned_by_id", "cosigned_at", "cosigned_name"},
    "order": {"cosigned_by_id", "cosigned_at"},
}
REFUSALS = (ActionRefused, ValidationError, PermissionDenied)

# Statuses and what the session's rows must then be (records/workflow.py's table).
NOTHING_GIVEN = {"scheduled", "arrived", "screening", "held", "cleared", "cancelled", "no_show"}
ENDED_BEFORE_START = {"cancelled", "no_show", "not_proceeded"}

answers = st.one_of(st.just("no"), st.sampled_from(["yes", "no", "unknown", "maybe", ""]))
pregnancies = st.one_of(
    st.just("not_pregnant_test"), st.sampled_from(["pregnant", "not_pregnant_test", "not_pregnant_na", "unknown", "x"])
)
systolics = st.sampled_from([128, 128, 150, 179, 180, 210, 95, 60])
diastolics = st.sampled_from([82, 82, 99, 100, 120, 60, 140])
reasons = st.sampled_from(["Patient request", "Wrong patient", "", "  ", "Transport fell through"])
doses = st.sampled_from(["0.5", "35", "1", "0.15", "1.0", ".5", "", "abc", "-1", "0", "5 mg", "\uff15"])
units = st.sampled_from(["mg", "mg/kg/h", "mg/kg", "mcg", "mL", "µg", "", "IU"])
picks = st.integers(min_value=0, max_value=1_000)

# How often each step succeeded or was refused, and where sessions ended: LIFECYCLE_STATS=1 prints it.
TALLY: Counter[str] = Counter()


def tally(what: str) -> None:
    TALLY[what] += 1


def _row(obj_values: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in obj_values.items()))


@functools.cache
def _select_all(model) -> tuple[str, tuple[str, ...]]:
    """The SELECT of every column of a model's table, with the field names `.values()` would give.

    The rows are read after every step, hundreds of times in an example: written out once, not
    compiled by the ORM each time (a quarter of the test's time). The values are the database's own
    (what the driver returns, before the fields convert them), the same on both sides of a comparison.
    """
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    return f"SELECT {columns} FROM {quote(model._meta.db_table)}", tuple(field.attname for field in fields)


def _values(model, where: str = "", params: tuple = ()) -> list[dict]:
    sql, names = _select_all(model)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} {where} ORDER BY {connection.ops.quote_name('id')}", params)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def database_rows() -> dict[tuple[str, int], tuple]:
    """Every row of the clinical tables, keyed by (model name, pk)."""
    rows = {}
    for name, model in TABLES.items():
        for values in _values(model):
            rows[(name, values["id"])] = _row(values)
    return rows


def session_rows(session_id: int) -> dict[tuple[str, int], dict]:
    """The rows of one session, as a signature seals them (addenda are added after signing, by design)."""
    (session,) = _values(Session, "WHERE id = %s", (session_id,))
    rows = {("session", session_id): session}
    for name, model in TABLES.items():
        if name in ("session", "addendum"):
            continue
        for values in _values(model, "WHERE session_id = %s", (session_id,)):
            rows[(name, values["id"])] = values
    return rows


class ClinicDay(RuleBasedStateMachine):
    """One clinic day, reset for every example (a rolled-back savepoint)."""

    # Set by the test: the accounts and patients (made once, outside the examples).
    staff: dict[str, list] = {}
    patients: list = []

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._travel = time_machine.travel(
            CLINIC_DAY.replace(hour=9, tzinfo=ZoneInfo(django_settings.TIME_ZONE)), tick=False
        )
        self.clock = self._travel.start()
        self.sessions: list[int] = []
        self.signed: dict[int, dict] = {}
        self.order_keys = 0
        self.rows = database_rows()
        self.rows_checked: dict | None = None  # the rows the rules were last found to hold on
        self.last_event = self._head()
        self.steps: list[str] = []

    def teardown(self):
        for status in Session.objects.filter(pk__in=self.sessions).values_list("status", flat=True):
            tally(f"a session ended the example {status}")
        self._travel.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # Who acts, and on what ------------------------------------------------------------------

    def actor(self, role: str, pick: int):
        """Mostly someone of `role` (either of the two), sometimes anyone (the wrong role too)."""
        if pick % 5 == 4:
            everyone = [*self.staff["nurse"], *self.staff["physician"], *self.staff["admin"]]
            return actor_for(everyone[(pick // 5) % len(everyone)])
        people = self.staff[role]
        return actor_for(people[pick % len(people)])

    def session(self, pick: int) -> Session:
        return Session.objects.get(pk=self.sessions[pick % len(self.sessions)])

    @staticmethod
    def one(queryset, pick: int):
        items = list(queryset.order_by("pk"))
        return items[pick % len(items)] if items else None

    def _head(self) -> int:
        return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    # One step: an action, and what it must have written --------------------------------------

    def step(self, label: str, expect: set[str], call) -> object:
        """Run one action; check that it wrote exactly its rows and their audit events, or nothing."""
        self.clock.shift(timedelta(seconds=7))
        self.steps.append(label)
        before = self.rows
        try:
            # Each action is its own transaction (a savepoint here); not wrapped in another, so the
            # hard stop's refusal audit, written after the action's rollback, is kept (R6).
            result = call()
        except REFUSALS as exc:
            after = database_rows()
            assert after == before, f"{label}: refused ({exc}) but rows changed"
            events = list(AuditEvent.objects.filter(seq__gt=self.last_event))
            if isinstance(exc, StartRefusedByScreening):
                # R6: the hard stop's refusal is audited, and only it.
                assert [(e.action, e.record_type, e.record_id) for e in events] == [
                    ("start_refused", "session", str(exc.session.pk))
                ], label
            else:
                assert events == [], f"{label}: refused ({exc}) but audited {[e.action for e in events]}"
            self.last_event = self._head()
            tally(f"{label}: refused")
            return None
        after = database_rows()
        events = list(AuditEvent.objects.filter(seq__gt=self.last_event).order_by("seq"))
        changed = {key for key in after.keys() | before.keys() if after.get(key) != before.get(key)}
        assert changed, f"{label}: succeeded but wrote nothing"
        assert all(key in after for key in changed), f"{label}: a clinical row disappeared"
        # R6: one audit event for each row written or changed, naming it, of the action's kind.
        audited = Counter((e.record_type, e.record_id) for e in events)
        expected = Counter((name, str(pk)) for name, pk in changed if name not in COVERED_BY)
        for name, pk in changed:
            if name in COVERED_BY:
                parent = AdministrationEvent.objects.get(pk=pk).administration_id
                assert (COVERED_BY[name], parent) in changed, f"{label}: an administration event without its audit"
        assert audited == expected, f"{label}: audit events {sorted(audited)} for changed rows {sorted(expected)}"
        kinds = {e.action for e in events}
        assert kinds <= expect and kinds, f"{label}: audited {kinds}, expected only {expect}"
        tally(f"{label}: done")
        for name, pk in changed - before.keys():
            if name == "administration":
                self.started_allowed(Administration.objects.select_related("session").get(pk=pk))
        self.rows = after
        self.last_event = events[-1].seq
        return result

    # Rules: each is one action ---------------------------------------------------------------

    @rule(patient=picks, who=picks)
    def schedule(self, patient, who):
        if len(self.sessions) >= 4:
            return
        chosen = self.patients[patient % len(self.patients)]
        made = self.step(
            "schedule",
            {"create"},
            lambda: session_schedule(
                actor=self.actor(Role.NURSE if who % 2 else Role.PHYSICIAN, who),
                patient=chosen,
                planned_route="iv_infusion",
                scheduled_at=timezone.now(),
                chair=f"Chair {len(self.sessions) + 1}",
            ),
        )
        if made is not None:
            self.sessions.append(made.pk)

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks)
    def arrive(self, which, who):
        session = self.session(which)
        self.step("arrive", {"arrive"}, lambda: session_arrive(actor=self.actor(Role.NURSE, who), session=session))

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks)
    def begin_screening(self, which, who):
        session = self.session(which)
        self.step(
            "begin_screening",
            {"begin_screening"},
            lambda: session_begin_screening(actor=self.actor(Role.NURSE, who), session=session),
        )

    @precondition(lambda self: self.sessions)
    @rule(
        which=picks,
        who=picks,
        systolic=systolics,
        diastolic=diastolics,
        history=answers,
        uncontrolled=answers,
        psychosis=answers,
        current=answers,
        pregnancy=pregnancies,
        note=st.sampled_from(["Urine hCG negative", "", "Post-menopausal"]),
    )
    def screen(self, which, who, systolic, diastolic, history, uncontrolled, psychosis, current, pregnancy, note):
        session = self.session(which)
        self.step(
            "screen",
            {"create", "screen"},
            lambda: screening_record(
                actor=self.actor(Role.NURSE, who),
                session=session,
                systolic=systolic,
                diastolic=diastolic,
                hypertension_history=history,
                hypertension_uncontrolled=uncontrolled,
                psychosis_history=psychosis,
                psychosis_current=current,
                pregnancy=pregnancy,
                pregnancy_note=note,
            ),
        )

    @precondition(lambda self: self.sessions)
    @rule(
        which=picks,
        who=picks,
        decision=st.sampled_from(["proceed", "proceed", "do_not_proceed", ""]),
        reason=reasons,
    )
    def decide(self, which, who, decision, reason):
        screening = self.one(Screening.objects.filter(session_id__in=self.sessions), which)
        if screening is None:
            return
        self.step(
            "decide",
            {"screening_decision"},
            lambda: screening_decide(
                actor=self.actor(Role.PHYSICIAN, who), screening=screening, decision=decision, reason=reason
            ),
        )

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks, reason=reasons, no_show=st.booleans())
    def cancel(self, which, who, reason, no_show):
        session = self.session(which)
        self.step(
            "cancel",
            {"cancel", "no_show"},
            lambda: session_cancel(actor=self.actor(Role.NURSE, who), session=session, reason=reason, no_show=no_show),
        )

    @precondition(lambda self: self.sessions)
    @rule(
        which=picks,
        who=picks,
        dose=doses,
        unit=units,
        received_as=st.sampled_from(["written", "written", "verbal", "telephone", "fax"]),
        read_back=st.booleans(),
        prescriber=picks,
        key=st.sampled_from([None, "new", "new", "again"]),
        minutes_ago=st.sampled_from([0, 0, 5, 50, 120, 60 * 24 * 400]),
    )
    def order(self, which, who, dose, unit, received_as, read_back, prescriber, key, minutes_ago):
        session = self.session(which)
        physicians = self.staff["physician"]
        if key == "new":
            self.order_keys += 1
        submission_key = None if key is None else UUID(int=max(self.order_keys, 1))
        outside = prescriber % 4 == 3
        self.step(
            "order",
            {"create"},
            lambda: order_document(
                actor=self.actor(Role.NURSE, who),
                session=session,
                received_as=received_as,
                medication="Ketamine",
                dose_value=dose,
                dose_unit=unit,
                route="iv_infusion",
                order_text=f"Ketamine {dose} {unit} IV",
                received_at=timezone.now() - timedelta(minutes=minutes_ago),
                ordering_physician=None if outside else physicians[prescriber % len(physicians)],
                outside_prescriber="Dr. Outside" if outside else "",
                read_back_confirmed=read_back,
                submission_key=submission_key,
            ),
        )

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks, site=st.sampled_from(["L forearm 22G", "", " "]), twice=st.booleans())
    def start(self, which, who, site, twice):
        order = self.one(Order.objects.filter(session_id__in=self.sessions), which)
        if order is None:
            return
        actor = self.actor(Role.NURSE, who)
        for _ in range(2 if twice else 1):  # a double click: the second must be refused (R4)
            self.step(
                "start",
                {"administration_start"},
                lambda: administration_start(actor=actor, order=order, site=site, lot_number="LOT-7"),
            )

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks, reason=reasons, pause=st.booleans())
    def pause_or_resume(self, which, who, reason, pause):
        administration = self.one(Administration.objects.filter(session_id__in=self.sessions), which)
        if administration is None:
            return
        act, kind = (administration_pause, "pause") if pause else (administration_resume, "resume")
        self.step(
            kind,
            {f"administration_{kind}"},
            lambda: act(actor=self.actor(Role.NURSE, who), administration=administration, reason=reason),
        )

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks, amount=doses, unit=units, early=st.sampled_from(["", "", "Nausea"]))
    def stop(self, which, who, amount, unit, early):
        administration = self.one(Administration.objects.filter(session_id__in=self.sessions), which)
        if administration is None:
            return
        self.step(
            "stop",
            {"administration_stop"},
            lambda: administration_stop(
                actor=self.actor(Role.NURSE, who),
                administration=administration,
                amount_given_value=amount,
                amount_given_unit=unit,
                early_reason=early,
            ),
        )

    @precondition(lambda self: self.sessions)
    @rule(
        which=picks,
        who=picks,
        phase=st.sampled_from(["pre", "during", "post", "post", "later"]),
        systolic=systolics,
        diastolic=diastolics,
        minutes_ago=st.sampled_from([0, 0, 3, 70, 60 * 24 * 365 * 30]),
    )
    def chart_vitals(self, which, who, phase, systolic, diastolic, minutes_ago):
        session = self.session(which)
        self.step(
            "chart_vitals",
            {"create"},
            lambda: vitals_record(
                actor=self.actor(Role.NURSE, who),
                session=session,
                measured_at=timezone.now() - timedelta(minutes=minutes_ago),
                phase=phase,
                systolic=systolic,
                diastolic=diastolic,
                heart_rate=80,
                spo2=98,
            ),
        )

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks, reason=reasons, screening_bp=st.booleans())
    def strike_reading(self, which, who, reason, screening_bp):
        readings = VitalsReading.objects.filter(session_id__in=self.sessions)
        if screening_bp:  # the screening's own blood pressure (R3)
            readings = readings.filter(pk__in=Screening.objects.values("bp_reading_id"))
        reading = self.one(readings, which)
        if reading is None:
            return
        self.step(
            "strike_reading",
            {"entered_in_error", "rescreen"},
            lambda: vitals_mark_entered_in_error(actor=self.actor(Role.NURSE, who), reading=reading, reason=reason),
        )

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks, criteria_met=st.sampled_from([True, True, False]))
    def discharge(self, which, who, criteria_met):
        session = self.session(which)
        self.step(
            "discharge",
            {"discharge"},
            lambda: discharge_record(
                actor=self.actor(Role.NURSE, who),
                session=session,
                alert_and_oriented=True,
                vitals_near_baseline=True,
                steady_walking=criteria_met,
                escort_present_not_driving=True,
            ),
        )

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks)
    def sign(self, which, who):
        session = self.session(which)
        if self.step("sign", {"sign"}, lambda: session_sign(actor=self.actor(Role.NURSE, who), session=session)):
            self.signed[session.pk] = session_rows(session.pk)

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks)
    def cosign(self, which, who):
        session = self.session(which)
        self.step("cosign", {"cosign"}, lambda: session_cosign(actor=self.actor(Role.PHYSICIAN, who), session=session))

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks)
    def cosign_order(self, which, who):
        order = self.one(Order.objects.filter(session_id__in=self.sessions), which)
        if order is None:
            return
        self.step("cosign_order", {"cosign"}, lambda: order_cosign(actor=self.actor(Role.PHYSICIAN, who), order=order))

    @precondition(lambda self: self.sessions)
    @rule(which=picks, who=picks, text=st.sampled_from(["Called the next day: well.", ""]), reason=reasons)
    def addendum(self, which, who, text, reason):
        session = self.session(which)
        self.step(
            "addendum",
            {"addendum"},
            lambda: addendum_add(
                actor=self.actor(Role.PHYSICIAN if who % 2 else Role.NURSE, who),
                session=session,
                text=text,
                reason=reason,
            ),
        )

    @rule(minutes=st.sampled_from([1, 5, 15, 40]))
    def time_passes(self, minutes):
        if timezone.localtime().hour < 20:  # the day stays one clinic day
            self.clock.shift(timedelta(minutes=minutes))

    @initialize(patient=st.integers(min_value=0, max_value=1), who=picks, depth=st.integers(0, 14), choice=picks)
    def first_session(self, patient, who, depth, choice):
        """A first session, taken some way along the careful path (every step checked), to start deep."""
        self.schedule(patient, who * 5)  # by a nurse or physician
        self.walk(len(self.sessions) - 1, depth, choice)

    @initialize(depth=st.integers(min_value=0, max_value=8), choice=picks)
    def same_patient_session(self, depth, choice):
        """A second session of the first patient the same day, also some way along (holds cross sessions)."""
        self.schedule(0, 0)
        self.walk(len(self.sessions) - 1, depth, choice)

    def walk(self, which, depth, choice):
        for n in range(depth):
            self.careful_step(which, choice + n)
        self.rules_hold()

    # The careful path is three times as likely as each other rule, so examples reach signatures.
    @precondition(lambda self: self.sessions)
    @rule(which=picks, choice=picks)
    def next_step(self, which, choice):
        self.careful_step(which, choice)

    @precondition(lambda self: self.sessions)
    @rule(which=picks, choice=picks)
    def next_step_again(self, which, choice):
        self.careful_step(which, choice)

    @precondition(lambda self: self.sessions)
    @rule(which=picks, choice=picks)
    def next_step_once_more(self, which, choice):
        self.careful_step(which, choice)

    def careful_step(self, which, choice):
        """The step a careful nurse or physician takes next, so that examples reach the end of a session."""
        session = self.session(which)
        status = session.status
        nurse = choice * 5  # the right role, never the wrong one (pick % 5 != 4)
        if status == "scheduled":
            self.arrive(which, nurse)
        elif status == "arrived":
            self.begin_screening(which, nurse)
        elif status == "screening":
            psychosis = "yes" if choice % 3 == 0 else "no"
            systolic = 185 if choice % 7 == 0 else 128
            note = "Urine hCG negative"
            self.screen(which, nurse, systolic, 82, "no", "no", psychosis, "no", "not_pregnant_test", note)
        elif status == "held":
            current = session.screening
            decision = "proceed" if choice % 3 else "do_not_proceed"
            self.step(
                "decide",
                {"screening_decision"},
                lambda: screening_decide(
                    actor=self.actor(Role.PHYSICIAN, nurse), screening=current, decision=decision, reason="Reviewed"
                ),
            )
        elif status == "cleared" and choice % 5 == 0:
            self.strike_screening_bp(session, nurse)
        elif status == "cleared":
            waiting = Order.objects.filter(session=session, administrations__isnull=True).first()
            if waiting is None:
                self.order(which, nurse, "0.5", "mg/kg/h", "written", False, choice, "new", 0)
            else:
                self.step(
                    "start",
                    {"administration_start"},
                    lambda: administration_start(
                        actor=self.actor(Role.NURSE, nurse), order=waiting, site="L forearm", lot_number="LOT-7"
                    ),
                )
        elif status in ("in_progress", "stopped_early", "recovery"):
            running = session.administrations.exclude(state="stopped").first()
            if running is not None and choice % 4 == 0:
                paused = running.state == "paused"
                act, kind = (administration_resume, "resume") if paused else (administration_pause, "pause")
                self.step(
                    kind,
                    {f"administration_{kind}"},
                    lambda: act(actor=self.actor(Role.NURSE, nurse), administration=running, reason="Nausea"),
                )
            elif running is not None and choice % 4 == 1:
                self.strike_screening_bp(session, nurse)
            elif running is not None:
                self.step(
                    "stop",
                    {"administration_stop"},
                    lambda: administration_stop(
                        actor=self.actor(Role.NURSE, nurse),
                        administration=running,
                        amount_given_value="35",
                        amount_given_unit="mg",
                        early_reason="Dizziness" if choice % 6 == 5 else "",
                    ),
                )
            elif not session.readings.filter(phase="post", entered_in_error_at__isnull=True).exists():
                self.clock.shift(timedelta(minutes=1))
                self.chart_vitals(which, nurse, "post", 124, 78, 0)
            else:
                self.discharge(which, nurse, True)
        elif status in ("discharged", "cancelled", "no_show"):
            self.sign(which, nurse)
        elif status == "signed" and choice % 2:
            self.cosign(which, nurse)
        elif status in ("signed", "cosigned"):
            self.addendum(which, nurse, "Called the next day: well.", "Follow-up call")

    def strike_screening_bp(self, session, who):
        current = session.screening
        if current is not None:
            self.step(
                "strike_reading",
                {"entered_in_error", "rescreen"},
                lambda: vitals_mark_entered_in_error(
                    actor=self.actor(Role.NURSE, who), reading=current.bp_reading, reason="Cuff too small"
                ),
            )

    # The rules, asked of the database after every step ---------------------------------------

    @invariant()
    def rules_hold(self):
        # The rules read the clinical tables. A step that was refused, or a rule that took no step,
        # left them as they were when the rules last held (`step` asserts it, row by row), so only
        # the seals are checked again then.
        if self.rows is not self.rows_checked:
            self.one_administration_per_order()
            self.administrations_allowed()
            self.status_agrees()
            self.rows_checked = self.rows
        self.signed_sessions_unchanged()

    def one_administration_per_order(self):
        # R4
        twice = Administration.objects.values("order_id").annotate(n=Count("id")).filter(n__gt=1)
        assert not twice.exists(), f"R4: an order started twice after {self.steps}"

    def administrations_allowed(self):
        # R3: every administration's session has a current screening that allowed it (its BP may be
        # struck after the start: what was given stays given; `started_allowed` checks the moment).
        for administration in Administration.objects.select_related("session"):
            session = administration.session
            current = session.screening
            assert current is not None, f"R3: administration {administration.pk} without a screening"
            assert current.outcome == ScreeningOutcome.CLEARED or current.decision == ScreeningDecision.PROCEED, (
                f"R3: administration {administration.pk} on a screening that does not allow it, after {self.steps}"
            )

    def started_allowed(self, administration):
        """R3 at the moment of a start: the current screening allows it, its BP not struck, no hold unseen."""
        current = administration.session.screening
        assert current is not None and current.allows_administration, f"R3: started unscreened, after {self.steps}"
        self.no_unseen_hold(administration.session, current)

    def no_unseen_hold(self, session, current):
        """R3, stated independently of records.actions.screening: the patient's holds of the clinic day."""
        cleared_at = current.decided_at if current.decision == ScreeningDecision.PROCEED else None
        today = timezone.localdate()
        for other in Screening.objects.filter(
            session__patient_id=session.patient_id, superseded_at__isnull=True, outcome="held"
        ).exclude(session_id=session.pk):
            if other.decision == "":
                arose = other.screened_at
                holds = other.session.status == "held" or timezone.localdate(arose) == today
            elif other.decision == ScreeningDecision.DO_NOT_PROCEED:
                arose = other.decided_at
                holds = timezone.localdate(arose) == today
            else:
                continue
            assert not (holds and (cleared_at is None or arose > cleared_at)), (
                f"R3: started while the patient's hold in session {other.session_id} was unseen, after {self.steps}"
            )

    def status_agrees(self):
        # records/workflow.py: what each status says about the session's rows.
        for session in Session.objects.filter(pk__in=self.sessions):
            given = list(session.administrations.all())
            running = [a for a in given if a.state != "stopped"]
            discharged = Discharge.objects.filter(session=session).exists()
            current = session.screening
            status, where = session.status, f"session {session.pk} {session.status} after {self.steps}"
            if status in NOTHING_GIVEN or (
                status in ("signed", "cosigned") and session.exit_kind in ENDED_BEFORE_START
            ):
                assert not given, f"nothing given: {where}"
            if status in ("scheduled", "arrived"):
                assert not session.screenings.exists(), where
            if status == "screening":
                assert current is None, where
            if status == "held":
                assert current is not None and current.outcome == "held" and current.decision == "", where
            if status == "cleared":
                assert current is not None and current.allows_administration, where
            if status == "in_progress":
                assert running, f"in progress with nothing running: {where}"
            if status in ("recovery", "stopped_early"):
                assert given, where
            if status == "discharged" or (
                status in ("signed", "cosigned") and session.exit_kind not in ENDED_BEFORE_START
            ):
                assert given and not running and discharged, f"discharged: {where}"
            else:
                assert not discharged, f"a discharge on a session {where}"
            if session.exit_kind == "not_proceeded":
                assert current is not None and current.decision == ScreeningDecision.DO_NOT_PROCEED, where
            assert (status in ("signed", "cosigned")) == (session.signed_at is not None), where
            assert (status == "cosigned") == (session.cosigned_at is not None), where

    def signed_sessions_unchanged(self):
        # R2: a signed session's rows as signed; its seals recompute.
        for session_id, signed in self.signed.items():
            now = session_rows(session_id)
            assert now.keys() == signed.keys(), f"R2: rows added to or removed from signed session {session_id}"
            for key, values in signed.items():
                may_change = SIGNED_MAY_CHANGE.get(key[0], set())
                kept = {k: v for k, v in values.items() if k not in may_change}
                assert {k: v for k, v in now[key].items() if k not in may_change} == kept, (
                    f"R2: {key} of signed session {session_id} changed after {self.steps}"
                )
        if self.signed:
            report = verify_seals()
            assert report.intact, report.problem()


def test_the_rules_hold_along_random_paths(make_user, make_patient):
    """Issue 10: R2, R3, R4 and R6 hold after every step of random sessions driven through the actions."""
    ClinicDay.staff = {
        "nurse": [make_user(Role.NURSE), make_user(Role.NURSE)],
        "physician": [make_user(Role.PHYSICIAN), make_user(Role.PHYSICIAN)],
        "admin": [make_user(Role.ADMIN)],
    }
    ClinicDay.patients = [make_patient(), make_patient()]
    TALLY.clear()
    run_state_machine_as_test(ClinicDay, settings=LIFECYCLE)
    if os.environ.get("LIFECYCLE_STATS"):
        print("\n".join(f"{n:6d}  {what}" for what, n in sorted(TALLY.items())))
