from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.actions.intake import intake_record
from records.actions.outcomes import outcome_record
from records.models import AuditEvent, VitalsReading
from tests.conftest import actor_for
from tests.factories import PastSessionFactory

pytestmark = pytest.mark.django_db


def _days_ago(days: int, hour: int = 9):
    now = timezone.localtime()
    return now.replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=days)


@pytest.fixture
def course(nurse, physician, patient):
    """Three sessions: a held one the physician cleared, one with a telephone order, one stopped... all signed."""
    intake_record(
        actor=actor_for(physician),
        patient=patient,
        diagnosis="Chronic migraine",
        baseline_headache_days=20,
        preventive_treatments=[],
    )
    charted = partial(PastSessionFactory, nurse=nurse, physician=physician, patient=patient)
    first = charted(
        start=_days_ago(60),
        held=True,
        pain_before=7,
        pain_after=3,
        cosigned=True,
        addendum="Patient called: headache-free 5 days.",
        addendum__reason="Follow-up call",
    )
    second = charted(
        start=_days_ago(30), received_as="telephone", side_effect=True, pain_before=6, pain_after=2, systolic=142
    )
    third = charted(start=_days_ago(2), pain_before=5)
    for days, value in ((60, 18), (30, 12), (2, 8)):
        outcome_record(actor=actor_for(nurse), patient=patient, reported_on=_days_ago(days).date(), headache_days=value)
    return [first, second, third]


def test_history_shows_the_whole_course_newest_first(client_for, physician, patient, course):
    page = client_for(physician).get(reverse("patient_history", args=[patient.pk])).content.decode()

    first, second, third = course
    assert page.index(f"session-{third.pk}-heading") < page.index(f"session-{second.pk}-heading")
    assert page.index(f"session-{second.pk}-heading") < page.index(f"session-{first.pk}-heading")
    assert "3 sessions" in page
    # the held screening, and who decided it
    assert "Decision: <strong>Proceed</strong> by Omar Haddad" in page
    # orders exactly as documented, with the telephone order's co-signature state
    assert "Ketamine 0.5 mg/kg/h" in page
    assert "Ketamine 0.5 mg/kg/h IV infusion over 40 minutes" in page
    assert "Telephone order from Omar Haddad" in page
    assert "not co-signed yet" in page
    # administration times, side effects, discharge, signatures, addenda
    assert "Start " in page and "Stop " in page
    assert "amount given 35 mg" in page
    assert "Nausea / vomiting (mild)" in page
    assert "all criteria met" in page
    assert "<em>charted by</em>" in page and "<em>reviewed by</em>" in page
    assert "Patient called: headache-free 5 days." in page
    # one click to a session's own vitals chart
    assert reverse("session_detail", args=[third.pk]) + "#vitals" in page


def test_history_trend_charts(client_for, physician, patient, course):
    page = client_for(physician).get(reverse("patient_history", args=[patient.pk])).content.decode()

    assert "Headache days per 30 days against the baseline at intake" in page
    assert "Pain before and after each session" in page
    assert "Pre-session blood pressure per session" in page
    assert page.count("<svg") == 3
    assert "<script" not in page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    assert ' style="' not in page
    # the no-JS table beside the charts: pain before/after from the vitals, screening BP
    day = _days_ago(30).date().isoformat()
    assert f"<tr><td>{day}</td><td>6</td><td>2</td></tr>" in page
    assert f"<tr><td>{day}</td><td>142/82</td></tr>" in page


def test_readings_entered_in_error_are_left_out_of_the_pain_trend(client_for, nurse, physician, patient):
    from records.actions.vitals import vitals_mark_entered_in_error

    session = PastSessionFactory(
        nurse=nurse, physician=physician, patient=patient, start=_days_ago(1), pain_before=9, sign=False
    )
    wrong = VitalsReading.objects.get(session=session, phase="pre", pain=9)
    vitals_mark_entered_in_error(actor=actor_for(nurse), reading=wrong, reason="Wrong patient")
    page = client_for(physician).get(reverse("patient_history", args=[patient.pk])).content.decode()
    assert f"<tr><td>{_days_ago(1).date().isoformat()}</td><td>—</td><td>2</td></tr>" in page


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"date_from": "days:31", "date_to": "days:29"}, [1]),
        ({"date_from": "days:10"}, [2]),
        ({"status": "cosigned"}, [0]),
        ({"status": "signed"}, [1, 2]),
        ({"route": "intranasal"}, []),
        ({"route": "iv_infusion"}, [0, 1, 2]),
    ],
)
def test_history_filters(client_for, physician, patient, course, query, shown):
    params = {
        k: (_days_ago(int(v.split(":")[1])).date().isoformat() if v.startswith("days:") else v)
        for k, v in query.items()
    }
    page = client_for(physician).get(reverse("patient_history", args=[patient.pk]), params).content.decode()
    for index, session in enumerate(course):
        assert (f"session-{session.pk}-heading" in page) == (index in shown), (query, index)
    if not shown:
        assert "No sessions match these filters." in page


def test_history_filter_with_dates_the_wrong_way_round_says_so(client_for, physician, patient, course):
    response = client_for(physician).get(
        reverse("patient_history", args=[patient.pk]), {"date_from": "2026-05-01", "date_to": "2026-04-01"}
    )
    assert "The end date must be on or after the start date." in response.content.decode()
    assert response.status_code == 200


def test_history_is_paginated_and_keeps_the_filters(client_for, nurse, physician, patient, settings):
    from records.views import review

    settings.DEBUG = False
    original = review.SESSIONS_PER_PAGE
    review.SESSIONS_PER_PAGE = 2
    try:
        made = [
            PastSessionFactory(nurse=nurse, physician=physician, patient=patient, start=_days_ago(d), readings=2)
            for d in (9, 6, 3)
        ]
        client = client_for(physician)
        url = reverse("patient_history", args=[patient.pk])
        first = client.get(url, {"route": "iv_infusion"}).content.decode()
        second = client.get(url, {"route": "iv_infusion", "page": "2"}).content.decode()
    finally:
        review.SESSIONS_PER_PAGE = original
    assert f"session-{made[2].pk}-heading" in first and f"session-{made[0].pk}-heading" not in first
    assert f"session-{made[0].pk}-heading" in second and f"session-{made[2].pk}-heading" not in second
    assert "Page 1 of 2" in first
    assert "?route=iv_infusion&amp;page=2" in first


def test_nurse_reads_the_history_and_admin_may_not(client_for, nurse, admin_user, patient, course):
    assert client_for(nurse).get(reverse("patient_history", args=[patient.pk])).status_code == 200
    assert client_for(admin_user).get(reverse("patient_history", args=[patient.pk])).status_code == 403
    assert AuditEvent.objects.filter(action="view", actor=nurse, patient=patient, reason="patient history").exists()


def test_history_runs_the_same_number_of_queries_for_2_and_12_sessions(client_for, nurse, physician, patient):
    """2 sessions with 3 readings each, then 12 with 7 readings each, all charted through the real actions.

    Every kind of row the timeline and the trends show (held screenings and decisions, telephone
    orders, side effects, readings entered in error, co-signatures, addenda, outcomes) grows with
    the sessions, so a query per session or per row on any of them would change the count.
    """
    from records.actions.vitals import vitals_mark_entered_in_error

    intake_record(
        actor=actor_for(physician),
        patient=patient,
        diagnosis="Chronic migraine",
        baseline_headache_days=20,
        preventive_treatments=[],
    )

    def chart(days_ago: range, readings: int) -> None:
        for days in days_ago:
            variant = days % 4
            session = PastSessionFactory(
                nurse=nurse,
                physician=physician,
                patient=patient,
                start=_days_ago(days),
                readings=readings,
                held=variant == 0,
                cosigned=variant == 0,
                addendum="Called: well." if variant == 0 else None,
                side_effect=variant == 1,
                received_as="telephone" if variant == 2 else "written",
                sign=variant != 3,
            )
            if variant == 3:  # not signed yet, so a reading may still be marked
                wrong = session.readings.get(phase="post")
                vitals_mark_entered_in_error(actor=actor_for(nurse), reading=wrong, reason="Cuff slipped")
            outcome_record(
                actor=actor_for(nurse), patient=patient, reported_on=_days_ago(days).date(), headache_days=days % 20
            )

    client = client_for(physician)
    url = reverse("patient_history", args=[patient.pk])
    chart(range(100, 102), readings=2)
    with CaptureQueriesContext(connection) as small:
        response = client.get(url)
    assert response.content.decode().count('class="card shadow-sm mb-3 timeline-session"') == 2

    chart(range(60, 70), readings=6)
    assert VitalsReading.objects.filter(session__patient=patient).count() == 2 * 3 + 10 * 7
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    page = response.content.decode()

    assert page.count('class="card shadow-sm mb-3 timeline-session"') == 12
    assert "12 sessions" in page
    assert len(large.captured_queries) == len(small.captured_queries), [q["sql"] for q in large.captured_queries]
