"""The hold belongs to the patient until a physician decides (rule R3 of records/rules.py).

Issue 10, items 2 and 3: a nurse cancelled a held session, scheduled a new one, answered
everything "no" and started; a struck screening BP kept its effect. Refusals of the hard
stop are audited (R6).
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from records.actions.context import ActionRefused
from records.actions.medications import administration_start, administration_stop
from records.actions.screening import screening_decide, screening_record
from records.actions.sessions import session_begin_screening, session_cancel
from records.actions.vitals import vitals_mark_entered_in_error
from records.models import Administration, AuditEvent, Screening, Session, SessionStatus
from tests.charting import NEGATIVE_SCREENING
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db

START = {"site": "L forearm 22G", "lot_number": "LOT-1"}


def screen(session, nurse, **answers):
    return screening_record(actor=actor_for(nurse), session=session, **{**NEGATIVE_SCREENING, **answers})


def start(nurse, order):
    return administration_start(actor=actor_for(nurse), order=order, **START)


def refused_starts(session) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="start_refused", record_type="session", record_id=str(session.pk)))


# A held session stays held until a physician decides ---------------------------------------


def test_a_nurse_cannot_cancel_a_held_session(sessions, patient, nurse, physician):
    session = sessions.to(patient, "held")
    with pytest.raises(ActionRefused, match="held for a physician's decision"):
        session_cancel(actor=actor_for(nurse), session=session, reason="Patient wants to rebook")
    with pytest.raises(ActionRefused, match="held for a physician's decision"):
        session_cancel(actor=actor_for(nurse), session=session, reason="Gone home", no_show=True)
    session.refresh_from_db()
    assert session.status == SessionStatus.HELD
    assert not AuditEvent.objects.filter(action__in=["cancel", "no_show"]).exists()
    # The physician's "do not proceed" is what ends it.
    screening_decide(
        actor=actor_for(physician), screening=session.screening, decision="do_not_proceed", reason="Active symptoms"
    )
    session.refresh_from_db()
    assert (session.status, session.exit_kind) == ("cancelled", "not_proceeded")


def test_the_page_offers_no_cancel_on_a_held_session_and_refuses_the_post(client, nurse, sessions, patient):
    session = sessions.to(patient, "held")
    client.force_login(nurse)
    url = reverse("session_detail", args=[session.pk])
    assert reverse("session_cancel", args=[session.pk]) not in client.get(url).content.decode()
    response = client.post(reverse("session_cancel", args=[session.pk]), {"reason": "Rebook"}, follow=True)
    assert "held for a physician&#x27;s decision" in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.HELD


def test_a_new_session_the_same_day_is_held_by_the_undecided_hold(sessions, patient, nurse, physician):
    """Issue 10, item 2: the new session's all-"no" screening is held, and says why."""
    first = sessions.to(patient, "held")  # history of psychosis, undecided
    second = sessions.to(patient, "screening", chair="Chair 4")
    screening = screen(second, nurse)
    assert screening.outcome == "held"
    assert screening.positive_findings() == []
    [carried] = screening.carried
    assert f"session {first.pk} (" in carried and "Chair 1" in carried
    assert "held for a physician's decision: history of psychosis" in carried
    assert carried in screening.hold_reasons
    second.refresh_from_db()
    assert second.status == SessionStatus.HELD
    order = sessions.order(second)
    with pytest.raises(ActionRefused, match="held for physician review"):
        start(nurse, order)
    # A physician decides on this session, having seen the other one's findings: it may start.
    screening_decide(
        actor=actor_for(physician),
        screening=screening,
        decision="proceed",
        reason="Psychosis history reviewed: remote, stable for ten years.",
    )
    start(nurse, order)
    assert Administration.objects.filter(session=second).count() == 1
    # The other session stays held: the decision was on this one.
    first.refresh_from_db()
    assert first.status == SessionStatus.HELD


def test_the_session_page_shows_the_findings_and_names_the_other_session(client, sessions, patient, nurse):
    first = sessions.to(patient, "held")
    second = sessions.to(patient, "screening")
    screen(second, nurse)
    client.force_login(nurse)
    html = client.get(reverse("session_detail", args=[second.pk])).content.decode()
    assert "Held for the patient's findings elsewhere" in html
    assert f"session {first.pk} (" in html
    assert "history of psychosis" in html


def test_do_not_proceed_holds_the_patient_for_the_rest_of_the_day(sessions, patient, nurse, physician):
    first = sessions.to(patient, "held")
    screening_decide(
        actor=actor_for(physician), screening=first.screening, decision="do_not_proceed", reason="BP uncontrolled"
    )
    second = sessions.to(patient, "screening")
    screening = screen(second, nurse)
    assert screening.outcome == "held"
    assert "a physician decided not to proceed" in screening.carried_findings
    assert "BP uncontrolled" in screening.carried_findings
    screening_decide(
        actor=actor_for(physician), screening=screening, decision="do_not_proceed", reason="Not today either"
    )
    # Another clinic day: the decisions were about that day.
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=True):
        third = sessions.to(patient, "screening")
        assert screen(third, nurse).outcome == "cleared"


def test_an_undecided_hold_still_open_holds_the_next_day_too(sessions, patient, nurse):
    sessions.to(patient, "held")
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=True):
        later = sessions.to(patient, "screening")
        assert screen(later, nurse).outcome == "held"


def test_another_patients_hold_holds_nothing(sessions, patient, make_patient, nurse):
    sessions.to(make_patient(), "held")
    assert screen(sessions.to(patient, "screening"), nurse).outcome == "cleared"


def test_a_cleared_session_does_not_start_after_a_hold_in_another_session(sessions, patient, nurse):
    """A session cleared before the patient's hold elsewhere: the start is refused, and audited."""
    cleared = sessions.to(patient, "cleared")
    order = sessions.order(cleared)
    other = sessions.to(patient, "held")
    with pytest.raises(ActionRefused, match=f"hold in another session.*session {other.pk}"):
        start(nurse, order)
    assert not Administration.objects.exists()
    [event] = refused_starts(cleared)
    assert f"session {other.pk}" in event.reason


# Striking the screening's own blood pressure -------------------------------------------------


def test_striking_the_screening_bp_reopens_the_screening(sessions, patient, nurse):
    """Issue 10, item 3: the struck reading loses its effect; the old screening is kept, superseded."""
    session = sessions.to(patient, "cleared")
    old = session.screening
    order = sessions.order(session)
    vitals_mark_entered_in_error(actor=actor_for(nurse), reading=old.bp_reading, reason="Cuff too small")
    session.refresh_from_db()
    assert session.status == SessionStatus.SCREENING
    assert session.screening is None
    old.refresh_from_db()
    assert old.superseded_at is not None and old.superseded_by == nurse
    assert "Cuff too small" in old.superseded_reason
    assert AuditEvent.objects.filter(action="rescreen", record_type="screening", record_id=str(old.pk)).exists()
    assert AuditEvent.objects.get(action="rescreen", record_type="session").changes["status"] == [
        "cleared",
        "screening",
    ]
    with pytest.raises(ActionRefused, match="screening has not been recorded"):
        start(nurse, order)
    # Screened again, with a reading above the threshold this time: held.
    new = screen(session, nurse, systolic=190, diastolic=100)
    assert new.outcome == "held"
    assert list(Screening.objects.filter(session=session).order_by("id")) == [old, new]
    assert Session.objects.get(pk=session.pk).screening == new


def test_a_rescreen_keeps_the_earlier_findings(sessions, patient, nurse, physician):
    """Striking the BP is no way around a hold: the earlier answers still hold the new screening."""
    session = sessions.to(patient, "held")  # history of psychosis
    vitals_mark_entered_in_error(
        actor=actor_for(nurse), reading=session.screening.bp_reading, reason="Wrong patient's monitor"
    )
    again = screen(session, nurse)  # all "no" this time
    assert again.outcome == "held"
    assert "earlier screening" in again.carried_findings and "history of psychosis" in again.carried_findings


def test_a_rescreen_after_a_bp_only_hold_may_clear(sessions, patient, nurse):
    session = sessions.to(patient, "screening")
    typo = screen(session, nurse, systolic=210, diastolic=95)
    assert typo.outcome == "held"
    vitals_mark_entered_in_error(actor=actor_for(nurse), reading=typo.bp_reading, reason="Typed 210 for 120")
    assert screen(session, nurse, systolic=120, diastolic=80).outcome == "cleared"


def test_striking_the_screening_bp_after_the_start_stops_further_starts(sessions, patient, nurse):
    """Decided: what was given stays given and the nurse may still stop it; nothing more may start."""
    session = sessions.to(patient, "in_progress")
    screening = session.screening
    vitals_mark_entered_in_error(actor=actor_for(nurse), reading=screening.bp_reading, reason="Cuff too small")
    session.refresh_from_db()
    assert session.status == SessionStatus.IN_PROGRESS
    assert session.screening == screening  # kept as the current one, its BP struck
    second = sessions.order(session, medication="Ondansetron", dose_value="4", dose_unit="mg", order_text="x")
    with pytest.raises(ActionRefused, match="marked entered in error after the first start"):
        start(nurse, second)
    assert len(refused_starts(session)) == 1
    administration_stop(
        actor=actor_for(nurse), administration=sessions.administration, amount_given_value="20", amount_given_unit="mg"
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.RECOVERY


def test_the_page_shows_the_struck_screening_bp_and_offers_no_start(client, sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    vitals_mark_entered_in_error(actor=actor_for(nurse), reading=session.screening.bp_reading, reason="Cuff too small")
    client.force_login(nurse)
    html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    section = html.split('id="screening"')[1].split("</section>")[0]
    assert "<s>128/82 mmHg</s>" in section and "entered in error" in section
    assert "nothing more may be started" in section
    sessions.order(session, medication="Ondansetron", dose_value="4", dose_unit="mg", order_text="x")
    html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert reverse("session_administration_start", args=[session.pk]) not in html


def test_the_screening_is_offered_again_after_a_strike(client, sessions, patient, nurse):
    session = sessions.to(patient, "cleared")
    client.force_login(nurse)
    response = client.post(
        reverse("session_vitals_error", args=[session.pk]),
        {"reading": session.screening.bp_reading.pk, "reason": "Cuff too small"},
        follow=True,
    )
    html = response.content.decode()
    assert "back to screening" in html
    assert reverse("session_screening", args=[session.pk]) in html
    assert "superseded by" in html


# Refusals of the hard stop are audited --------------------------------------------------------


def _refused_start_leaves_a_trace(sessions, patient, nurse):
    session = sessions.to(patient, "held")
    order = sessions.order(session)
    writes_before = AuditEvent.objects.exclude(action="start_refused").count()
    with pytest.raises(ActionRefused, match="held for physician review"):
        start(nurse, order)
    [event] = refused_starts(session)
    assert event.patient == patient
    assert event.actor == nurse and event.actor_role == "nurse"
    assert event.reason == "Cannot start: screening is held for physician review"
    assert event.changes == {"order": [None, str(order.pk)]}
    # The refused action itself wrote nothing.
    assert AuditEvent.objects.exclude(action="start_refused").count() == writes_before
    assert not Administration.objects.exists()


def test_a_refused_start_is_audited_after_the_rollback(sessions, patient, nurse):
    """Issue 10, item 9: the refused attempt leaves a trace naming the session, patient and reason."""
    _refused_start_leaves_a_trace(sessions, patient, nurse)


@pytest.mark.django_db(transaction=True)
def test_a_refused_start_is_audited_in_its_own_committed_transaction(sessions, patient, nurse):
    """Outside any test transaction: the action's transaction rolls back, the audit event is committed."""
    _refused_start_leaves_a_trace(sessions, patient, nurse)
    assert not connection.in_atomic_block


def test_a_start_refused_for_another_reason_is_not_a_hard_stop_event(sessions, patient, nurse):
    session = sessions.to(patient, "cleared")
    order = sessions.order(session)
    with pytest.raises(Exception, match="site"):
        administration_start(actor=actor_for(nurse), order=order, site=" ", lot_number="L")
    assert refused_starts(session) == []


def test_no_screening_is_a_hard_stop_refusal_too(sessions, patient, nurse):
    session = sessions.to(patient, "arrived")
    order = sessions.order(session)
    session_begin_screening(actor=actor_for(nurse), session=session)
    with pytest.raises(ActionRefused, match="screening has not been recorded"):
        start(nurse, order)
    assert [e.reason for e in refused_starts(session)] == [
        "Cannot start: the contraindication screening has not been recorded."
    ]
