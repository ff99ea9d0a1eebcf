"""The database holds the safety rules by itself, signed session or not (records/rules.py, R2-R4).

Every forbidden change is tried three ways where it applies: through the ORM's
QuerySet.update(), through Model.save(), and through raw SQL; deletions through the ORM and
through raw SQL. Each must fail with IntegrityError, and the suite runs on SQLite and on
PostgreSQL, so each case proves its point on both. The clinical state is made through the
actions, as in the clinic; only the forbidden change itself bypasses them.
"""

import importlib
import re
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from records import workflow
from records.actions.medications import administration_start, administration_stop, order_cosign
from records.actions.screening import screening_decide
from records.actions.sessions import session_cancel
from records.actions.side_effects import discharge_record, side_effect_record, side_effect_resolve
from records.actions.vitals import vitals_mark_entered_in_error, vitals_record
from records.models import (
    Administration,
    AdministrationEvent,
    Discharge,
    Order,
    Patient,
    Screening,
    Session,
    SideEffect,
    VitalsReading,
)
from tests.charting import NEGATIVE_SCREENING
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db

UPDATES = ["update", "save", "sql"]
INSERTS = ["orm", "sql"]


# How a change is made -----------------------------------------------------------------------


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def change(how: str, obj: models.Model, **values) -> None:
    """Change `obj`'s columns (field names or attnames) through the ORM or raw SQL."""
    model = type(obj)
    if how == "update":
        model.objects.filter(pk=obj.pk).update(**values)
    elif how == "save":
        fresh = model.objects.get(pk=obj.pk)
        for name, value in values.items():
            setattr(fresh, name, value)
        fresh.save()
    else:
        fields = [model._meta.get_field(name) for name in values]
        sets = ", ".join(f"{_quote(f.column)} = %s" for f in fields)
        params = [
            f.get_db_prep_save(v.pk if isinstance(v, models.Model) else v, connection)
            for f, v in zip(fields, values.values(), strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {_quote(model._meta.db_table)} SET {sets} WHERE id = %s", [*params, obj.pk])


def insert(how: str, model: type[models.Model], **values) -> None:
    """Insert a row through the ORM (create) or raw SQL (every column, as the ORM would fill it)."""
    if how == "orm":
        model.objects.create(**values)
        return
    obj = model(**values)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(_quote(f.column) for f in fields)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) VALUES ({marks})", params)


def delete(how: str, obj: models.Model) -> None:
    """Delete `obj` through the ORM (past Django's own PROTECT check, straight to the DELETE) or raw SQL."""
    model = type(obj)
    if how == "orm":
        queryset = model.objects.filter(pk=obj.pk)
        queryset._raw_delete(queryset.db)
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_quote(model._meta.db_table)} WHERE id = %s", [obj.pk])


def refused(call, match: str | None = r"^R\d") -> str:
    """Run `call` in its own transaction; it must fail with IntegrityError, whose text matches `match`
    (by default a rule's id at the start: the message of one of the triggers, not some other error)."""
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        call()
    message = str(exc.value)
    if match is not None:
        assert re.search(match, message), message
    return message


def row(obj: models.Model) -> dict:
    return type(obj).objects.filter(pk=obj.pk).values().get()


# Clinical state, made through the actions ----------------------------------------------------


@pytest.fixture
def chart(sessions, patient, nurse, physician):
    """A discharged, unsigned session with one of every clinical row (nothing locked by a signature)."""
    nurse_actor = actor_for(nurse)
    session = sessions.to(patient, "recovery")
    effect = side_effect_record(
        actor=nurse_actor,
        session=session,
        kind="nausea_vomiting",
        severity="mild",
        onset_at=timezone.now(),
        action_taken="Ondansetron per standing order",
    )
    reading = vitals_record(
        actor=nurse_actor,
        session=session,
        measured_at=timezone.now(),
        phase="post",
        systolic=124,
        diastolic=78,
        heart_rate=76,
        moaas=5,
        dissociation="none",
    )
    discharge = discharge_record(
        actor=nurse_actor,
        session=session,
        alert_and_oriented=True,
        vitals_near_baseline=True,
        steady_walking=True,
        escort_present_not_driving=True,
    )
    session.refresh_from_db()
    assert session.status == "discharged" and not session.is_locked
    return SimpleNamespace(
        session=session,
        reading=reading,
        screening=session.screening,
        order=session.orders.get(),
        administration=session.administrations.get(),
        event=session.administration_events.first(),
        side_effect=effect,
        discharge=discharge,
    )


@dataclass(frozen=True)
class Forbidden:
    what: str
    target: str  # attribute of the `chart` fixture
    values: dict

    def __str__(self) -> str:
        return self.what


CHANGES = [
    Forbidden("a vitals value", "reading", {"systolic": 199}),
    Forbidden("when a reading was measured", "reading", {"measured_at": timezone.now() - timedelta(days=3650)}),
    Forbidden("a reading's phase", "reading", {"phase": "pre"}),
    Forbidden("a sedation score added later", "reading", {"moaas": 2}),
    Forbidden("a dissociation item added later", "reading", {"cadss_15": 1}),
    Forbidden("a dose as ordered", "order", {"dose_value": "5"}),
    Forbidden("the order text", "order", {"order_text": "Ketamine 5 mg/kg/h"}),
    Forbidden("a screening's outcome", "screening", {"outcome": "held"}),
    Forbidden("a screening answer", "screening", {"psychosis_history": "yes"}),
    Forbidden("a screening's threshold", "screening", {"bp_hold_systolic": 250}),
    Forbidden("the amount given", "administration", {"amount_given_value": "350"}),
    Forbidden("the lot number", "administration", {"lot_number": "LOT-2"}),
    Forbidden("the start time", "administration", {"started_at": timezone.now() - timedelta(hours=5)}),
    Forbidden("an administration event", "event", {"reason": "rewritten"}),
    Forbidden("a side effect's severity", "side_effect", {"severity": "severe"}),
    Forbidden("a discharge", "discharge", {"note": "rewritten"}),
    Forbidden("a session's chair", "session", {"chair": "Chair 9"}),
    Forbidden("when a session was scheduled", "session", {"scheduled_at": timezone.now() - timedelta(days=1)}),
]


@pytest.mark.parametrize("how", UPDATES)
@pytest.mark.parametrize("forbidden", CHANGES, ids=str)
def test_clinical_values_cannot_be_changed(chart, forbidden, how):
    """Issue 10, item 7: on an unsigned session too, a dose, a vitals value or a screening cannot be changed."""
    target = getattr(chart, forbidden.target)
    before = row(target)
    message = refused(lambda: change(how, target, **forbidden.values))
    assert message.startswith(("R2", "R3")), message
    assert row(target) == before


@pytest.mark.parametrize("how", UPDATES)
def test_documented_columns_are_set_once(sessions, patient, make_patient, nurse, physician, how):
    nurse_actor, physician_actor = actor_for(nurse), actor_for(physician)
    # An entered-in-error mark, once.
    session = sessions.to(patient, "in_progress")
    reading = session.readings.filter(phase="during").get()
    vitals_mark_entered_in_error(actor=nurse_actor, reading=reading, reason="Cuff on the wrong arm")
    refused(lambda: change(how, reading, entered_in_error_reason="Something else"))
    refused(
        lambda: change(how, reading, entered_in_error_at=None, entered_in_error_by=None, entered_in_error_reason="")
    )
    # The stop of an administration: its amount, time and author come with the stop, once.
    administration = sessions.administration
    refused(lambda: change(how, administration, stopped_by=nurse))
    # A side effect's resolution, once.
    effect = side_effect_record(
        actor=nurse_actor,
        session=session,
        kind="dizziness",
        severity="mild",
        onset_at=timezone.now() - timedelta(minutes=5),
        action_taken="none",
    )
    side_effect_resolve(actor=nurse_actor, side_effect=effect, resolved_at=timezone.now())
    refused(lambda: change(how, effect, resolved_at=timezone.now() - timedelta(minutes=1)))
    administration_stop(
        actor=nurse_actor, administration=administration, amount_given_value="35", amount_given_unit="mg"
    )
    refused(lambda: change(how, administration, amount_given_value="40"))
    refused(
        lambda: change(
            how,
            administration,
            state="running",
            stopped_at=None,
            stopped_by=None,
            amount_given_value="",
            amount_given_unit="",
        )
    )
    # A verbal order's co-signature, once.
    verbal = sessions.order(session, received_as="verbal", read_back_confirmed=True)
    order_cosign(actor=physician_actor, order=verbal)
    refused(lambda: change(how, verbal, cosigned_at=timezone.now() + timedelta(minutes=1)))
    # A physician's decision, once, on a held screening.
    held = sessions.to(make_patient(), "held")
    screening = held.screening
    screening_decide(actor=physician_actor, screening=screening, decision="proceed", reason="Stable for years.")
    refused(lambda: change(how, screening, decision_reason="Something else"))
    refused(lambda: change(how, screening, decision="do_not_proceed"))
    # A session's arrival and exit, once, with their step.
    refused(lambda: change(how, held, arrived_at=timezone.now() - timedelta(hours=3)))
    cancelled = sessions.to(make_patient(), "arrived")
    session_cancel(actor=nurse_actor, session=cancelled, reason="Patient unwell")
    refused(lambda: change(how, cancelled, exit_reason="Rewritten reason"))
    scheduled = sessions.to(make_patient(), "scheduled")
    refused(lambda: change(how, scheduled, exit_kind="cancelled", exit_reason="without the step"))


@pytest.mark.parametrize("how", UPDATES)
def test_a_decision_is_recorded_only_on_a_held_screening(sessions, patient, physician, how):
    screening = sessions.to(patient, "cleared").screening
    refused(
        lambda: change(
            how,
            screening,
            decision="proceed",
            decision_reason="x",
            decided_by=physician,
            decided_at=timezone.now(),
        ),
        match=None,  # the check constraint or the trigger, whichever the database tries first
    )


DELETABLE = ["reading", "screening", "order", "administration", "event", "side_effect", "discharge", "session"]


@pytest.mark.parametrize("how", INSERTS)
@pytest.mark.parametrize("target", [*DELETABLE, "patient"])
def test_nothing_clinical_is_deleted(chart, how, target):
    obj = chart.session.patient if target == "patient" else getattr(chart, target)
    message = refused(lambda: delete(how, obj))
    assert message.startswith("R2"), message
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_a_patient_without_a_chart_is_not_deleted_either(make_patient):
    """No clinical row points at this patient: the trigger, not a foreign key, refuses."""
    patient = make_patient()
    for how in INSERTS:
        refused(lambda how=how: delete(how, patient), match="^R2")
    assert Patient.objects.filter(pk=patient.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only")
@pytest.mark.parametrize(
    "model",
    [VitalsReading, Screening, Order, Administration, AdministrationEvent, SideEffect, Discharge, Session, Patient],
)
def test_truncate_is_refused_on_postgresql(chart, model):
    with connection.cursor() as cursor:
        # The chart's foreign keys are checked at commit; PostgreSQL truncates no table with checks
        # pending, so they are made now, as a commit would, inside the test's transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError, match=r"^R2"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {model._meta.db_table} CASCADE")
    assert model.objects.exists()


# Status -------------------------------------------------------------------------------------


def test_the_frozen_steps_are_the_workflow_table():
    """0003 froze the (from, to) status pairs; a new step needs a migration that freezes it too."""
    migration = importlib.import_module("records.migrations.0003_safety_invariants")
    live = {f"{start}>{end}" for step in workflow.STEPS.values() for start in step.starts_from for end in step.leads_to}
    assert set(migration.STATUS_STEPS) == live


@pytest.mark.parametrize("how", UPDATES)
@pytest.mark.parametrize(
    ("state", "values"),
    [
        ("scheduled", {"status": "in_progress"}),  # not a step
        ("arrived", {"status": "cleared"}),  # not a step: the screening is skipped
        ("recovery", {"status": "cleared"}),  # backwards
        ("held", {"status": "cancelled", "exit_kind": "cancelled", "exit_reason": "Nurse cancels"}),  # no decision
        ("held", {"status": "cleared"}),  # no decision to proceed
        ("held", {"status": "screening"}),  # the screening was not superseded
        ("screening", {"status": "cleared"}),  # no screening recorded
        ("cleared", {"status": "in_progress"}),  # nothing administered
        ("in_progress", {"status": "recovery"}),  # the administration is still running
        ("recovery", {"status": "discharged"}),  # no discharge recorded
    ],
)
def test_session_status_moves_only_along_the_workflow(sessions, patient, state, values, how):
    session = sessions.to(patient, state)
    message = refused(lambda: change(how, session, **values))
    assert message.startswith(("R2, R3", "R3")), message
    session.refresh_from_db()
    assert session.status == state


# The hard stop (R3) ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", UPDATES)
def test_a_held_screening_cannot_be_flipped_to_cleared(sessions, patient, nurse, how):
    """Issue 10, item 7: flipping a held screening to cleared, then the normal start."""
    session = sessions.to(patient, "held")
    screening = session.screening
    refused(lambda: change(how, screening, outcome="cleared", psychosis_history="no"), match="^R3")
    refused(lambda: change(how, session, status="cleared"), match="^R3")
    order = sessions.order(session)
    from records.actions.context import ActionRefused

    with pytest.raises(ActionRefused, match="held for physician review"):
        administration_start(actor=actor_for(nurse), order=order, site="L forearm", lot_number="L1")
    assert not Administration.objects.exists()


def _administration(order: Order, nurse, **values) -> dict:
    return {
        "session_id": order.session_id,
        "order": order,
        "site": "L forearm",
        "lot_number": "LOT-9",
        "started_at": timezone.now(),
        "started_by": nurse,
        **values,
    }


@pytest.mark.parametrize("how", INSERTS)
def test_an_administration_needs_an_allowing_screening(sessions, patient, make_patient, nurse, how):
    # Held, undecided.
    held = sessions.to(patient, "held")
    order = sessions.order(held)
    refused(lambda: insert(how, Administration, **_administration(order, nurse)), match="^R3")
    # No screening yet.
    arrived = sessions.to(make_patient(), "arrived")
    early = sessions.order(arrived)
    refused(lambda: insert(how, Administration, **_administration(early, nurse)), match="^R3")
    # Cleared, but its blood pressure struck (behind the action's back, which would have reopened it).
    cleared = sessions.to(make_patient(), "cleared")
    struck = sessions.order(cleared)
    change(
        "update",
        cleared.screening.bp_reading,
        entered_in_error_at=timezone.now(),
        entered_in_error_by=nurse,
        entered_in_error_reason="Wrong arm",
    )
    refused(lambda: insert(how, Administration, **_administration(struck, nurse)), match="^R3")
    # Cleared: inserted running only, never already stopped.
    ready = sessions.to(make_patient(), "cleared")
    ready_order = sessions.order(ready)
    refused(
        lambda: insert(
            how,
            Administration,
            **_administration(
                ready_order,
                nurse,
                state="stopped",
                stopped_at=timezone.now(),
                stopped_by=nurse,
                amount_given_value="35",
                amount_given_unit="mg",
            ),
        ),
        match="^R2",
    )
    # ... and the same insert, running, goes through: the guard refuses only what it must.
    insert(how, Administration, **_administration(ready_order, nurse))
    assert Administration.objects.filter(order=ready_order).count() == 1
    assert not Administration.objects.exclude(order=ready_order).exists()


@pytest.mark.parametrize("how", INSERTS)
def test_one_administration_per_order_in_the_database(sessions, patient, nurse, how):
    session = sessions.to(patient, "in_progress")
    order = sessions.administration.order
    message = refused(lambda: insert(how, Administration, **_administration(order, nurse)), match=None)
    assert "administration_one_per_order" in message or "records_administration.order_id" in message, message
    assert Administration.objects.filter(order=order).count() == 1
    assert session.administrations.count() == 1


def _screening(session: Session, reading: VitalsReading, nurse, **values) -> dict:
    answers = {k: v for k, v in NEGATIVE_SCREENING.items() if k not in ("systolic", "diastolic")}
    return {
        "session": session,
        "bp_reading": reading,
        "bp_hold_systolic": 180,
        "bp_hold_diastolic": 100,
        "outcome": "cleared",
        "screened_by": nurse,
        "screened_at": timezone.now(),
        **answers,
        **values,
    }


@pytest.mark.parametrize("how", INSERTS)
def test_a_cleared_screening_needs_negative_answers_and_a_low_bp(sessions, patient, nurse, physician, how):
    session = sessions.to(patient, "screening")

    def bp(systolic: int, diastolic: int) -> VitalsReading:
        return vitals_record(
            actor=actor_for(nurse),
            session=session,
            measured_at=timezone.now(),
            phase="pre",
            systolic=systolic,
            diastolic=diastolic,
        )

    low, high = bp(128, 82), bp(190, 95)
    refused(lambda: insert(how, Screening, **_screening(session, low, nurse, psychosis_history="yes")), match=None)
    refused(lambda: insert(how, Screening, **_screening(session, low, nurse, pregnancy="unknown")), match=None)
    refused(lambda: insert(how, Screening, **_screening(session, high, nurse)), match="^R3")
    refused(lambda: insert(how, Screening, **_screening(session, low, nurse, bp_hold_systolic=120)), match="^R3")
    refused(
        lambda: insert(
            how,
            Screening,
            **_screening(
                session,
                low,
                nurse,
                outcome="held",
                psychosis_history="yes",
                decision="proceed",
                decision_reason="Decided at once",
                decided_by=physician,
                decided_at=timezone.now(),
            ),
        ),
        match="^R3",
    )
    assert not Screening.objects.exists()
    # The well-formed row goes through.
    insert(how, Screening, **_screening(session, low, nurse))
    assert Screening.objects.filter(session=session).count() == 1


@pytest.mark.parametrize("how", INSERTS)
def test_child_rows_belong_to_their_parents_session(sessions, patient, make_patient, nurse, how):
    one = sessions.to(patient, "in_progress")
    administration = sessions.administration
    other = sessions.to(make_patient(), "cleared")
    order = sessions.order(one)
    # An administration filed under another session than its order's.
    refused(lambda: insert(how, Administration, **_administration(order, nurse, session_id=other.pk)), match="^R3")
    # An administration event filed under another session than its administration's.
    refused(
        lambda: insert(
            how,
            AdministrationEvent,
            session=other,
            administration=administration,
            kind="pause",
            occurred_at=timezone.now(),
            reason="x",
            recorded_by=nurse,
        ),
        match="^R2",
    )
    # A screening whose blood pressure was taken in another session.
    third = sessions.to(make_patient(), "screening")
    foreign = one.readings.first()
    refused(lambda: insert(how, Screening, **_screening(third, foreign, nurse)), match="^R3")
